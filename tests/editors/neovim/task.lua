-- A task through the real agent: start it with the test's prompt (or, given
-- CLINE_BRIDGE_TEST_CODE_ACTION, by choosing that code action in Neovim's menu at line
-- CLINE_BRIDGE_TEST_LINE of CLINE_BRIDGE_TEST_FILE), approve every request as a user typing
-- :ClineApprove would, and end when a turn is over with nothing left (state idle). An error event
-- in state failed ends it too, so that the test sees what went wrong.

local H = dofile(os.getenv('CLINE_BRIDGE_TEST_HARNESS'))
local M = H.module

H.result.events = {}
H.result.approvals = {}

local function on_task_event(event)
  table.insert(H.result.events, event)
  if event.kind == 'approval' then
    M.approve(H.guard(function(err, result)
      table.insert(H.result.approvals, { askId = event.askId, error = err, result = result })
    end))
  elseif event.kind == 'turnEnd' and event.state == 'idle' then
    H.finish()
  elseif event.kind == 'error' and event.state == 'failed' then
    H.finish()
  end
end

local CODE_ACTION = os.getenv('CLINE_BRIDGE_TEST_CODE_ACTION')

-- Choose the code action titled CODE_ACTION in the menu, as a user would; Neovim then runs its
-- command (clineBridge.startNewTask) itself.
local function start_with_code_action()
  vim.ui.select = function(items, _, on_choice)
    H.result.menu = vim.tbl_map(function(item) return item[2].title end, items)
    for _, item in ipairs(items) do
      if item[2].title == CODE_ACTION then
        return on_choice(item)
      end
    end
    H.fail('no code action titled ' .. CODE_ACTION)
  end
  vim.api.nvim_win_set_cursor(0, { tonumber(os.getenv('CLINE_BRIDGE_TEST_LINE')), 0 })
  vim.lsp.buf.code_action()
  -- Without actions Neovim only says "No code actions available": do not wait for the deadline.
  H.expect_within(10000, 'code action menu', function() return H.result.menu end)
end

local function on_init()
  if CODE_ACTION then
    return start_with_code_action()
  end
  M.start_task(H.prompt, H.guard(function(err, result)
    H.result.start_error = err
    H.result.start = result
  end))
end

H.run(function()
  if not (H.prompt or CODE_ACTION) then
    error('the task scenario needs CLINE_BRIDGE_TEST_PROMPT or CLINE_BRIDGE_TEST_CODE_ACTION')
  end
  vim.cmd('filetype on')
  M.setup(H.setup_options(on_init, { on_task_event = H.guard(on_task_event) }))
  local file = os.getenv('CLINE_BRIDGE_TEST_FILE')
  if file then
    vim.cmd('edit ' .. vim.fn.fnameescape(file))
  end
end)
