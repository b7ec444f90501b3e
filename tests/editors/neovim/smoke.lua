-- Without the agent: the documented setup() starts the sidecar, a file is opened and attached,
-- :ClineStatus's request answers, and the code actions reach Neovim's own code action menu.
-- The Cline CLI command (from the test) resolves but is never started: no task is run here.

local H = dofile(os.getenv('CLINE_BRIDGE_TEST_HARNESS'))
local M = H.module

local FILE = H.workspace .. '/shop.py'
local UNDEFINED = {
  range = { start = { line = 4, character = 11 }, ['end'] = { line = 4, character = 16 } },
  message = '"reslt" is not defined',
  severity = 1,
  source = 'pyright',
}

-- Neovim's menu calls vim.ui.select with (client id, action) pairs: record them, choose none.
local function capture_menu(on_done)
  vim.ui.select = function(items, opts, on_choice)
    local listed = {}
    for _, item in ipairs(items) do
      table.insert(listed, item[2])
    end
    on_choice(nil)
    on_done(listed, opts)
  end
end

local function code_action_menu()
  capture_menu(H.guard(function(actions, opts)
    H.result.menu_prompt = opts.prompt
    H.result.menu = actions
    -- Neovim 0.7's range_code_action: lines 2-5, as a visual selection would give.
    capture_menu(H.guard(function(range_actions)
      H.result.range_menu = range_actions
      H.finish()
    end))
    vim.lsp.buf.range_code_action({ diagnostics = { UNDEFINED } }, { 2, 0 }, { 5, 15 })
    H.expect_within(10000, 'range code action menu', function() return H.result.range_menu end)
  end))
  vim.api.nvim_win_set_cursor(0, { 4, 3 })
  vim.lsp.buf.code_action()
  -- Without actions Neovim only says "No code actions available": do not wait for the deadline.
  H.expect_within(10000, 'code action menu', function() return H.result.menu end)
end

local function on_init(client)
  H.result.server_name = client.name
  H.result.attached = vim.lsp.buf_is_attached(0, M.client_id)
  H.result.code_action_provider = client.server_capabilities.codeActionProvider
  H.result.commands = client.server_capabilities.executeCommandProvider.commands
  M.status(H.guard(function(err, status)
    H.result.status_error = err
    H.result.status = status
    code_action_menu()
  end))
end

H.run(function()
  vim.cmd('filetype on') -- as any user configuration has it: the language id is the filetype
  H.result.client_id = M.setup(H.setup_options(on_init))
  vim.cmd('edit ' .. vim.fn.fnameescape(FILE))
  H.result.user_commands = vim.tbl_keys(vim.api.nvim_get_commands({}))
end)
