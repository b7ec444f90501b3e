-- cline-bridge for Neovim 0.7 and later: Cline's agent from Neovim, through `cline-bridge serve`.
--
-- Install: copy this file to ~/.config/nvim/lua/cline_bridge.lua, then in init.lua:
--
--   require('cline_bridge').setup({
--     cmd = { 'cline-bridge', 'serve' },              -- or { 'python3', '-m', 'cline_bridge', 'serve' }
--     acp = { command = { 'cline', '--acp' } },       -- how the sidecar starts the Cline CLI
--   })
--
-- Commands: :ClineTask [text], :ClineSend [text], :ClineApprove, :ClineReject, :ClineStatus,
-- :ClineLog. Code actions ("Cline: explain / fix / improve") come with vim.lsp.buf.code_action()
-- and, for a visual selection in Neovim 0.7, vim.lsp.buf.range_code_action().
--
-- This is the very file the project's Neovim test runs (tests/editors/neovim/), with the
-- sidecar and the Cline CLI the test chooses. It uses only what Neovim 0.7 has:
-- vim.lsp.start_client (vim.lsp.start arrived in 0.8).

local M = {}

M.defaults = {
  -- How Neovim starts the sidecar.
  cmd = { 'cline-bridge', 'serve' },
  -- initializationOptions.acp: { command = { ... }, env = { NAME = 'value' } }. nil leaves the
  -- sidecar's own fallback: $CLINE_BRIDGE_ACP_COMMAND, else `cline --acp`.
  acp = nil,
  -- More initializationOptions (model, apiBaseUrl, control, ...).
  init_options = {},
  -- The workspace folder: Cline works there. nil: the current directory.
  root_dir = nil,
  -- Called with (event, client) for every clineBridge/taskEvent, after it is shown.
  on_task_event = nil,
  -- Called with (client) once the sidecar has answered initialize.
  on_init = nil,
  -- Called with (code, signal) when the sidecar has exited (in a fast event: wrap calls into
  -- Neovim in vim.schedule).
  on_exit = nil,
  -- Show task events with vim.notify (they always go to the :ClineLog buffer).
  notify = true,
}

M.config = vim.deepcopy(M.defaults)
M.client_id = nil
M.state = 'none' -- the task's state from the last event: running, awaitingApproval, idle, failed

local LOG_NAME = 'cline://log'
local log_buf = nil

local function log_buffer()
  if log_buf and vim.api.nvim_buf_is_valid(log_buf) then
    return log_buf
  end
  log_buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(log_buf, LOG_NAME)
  vim.api.nvim_buf_set_option(log_buf, 'filetype', 'markdown')
  return log_buf
end

local function append_log(text)
  local buf = log_buffer()
  local lines = vim.split(text, '\n', { plain = true })
  local empty = vim.api.nvim_buf_line_count(buf) == 1
    and vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] == ''
  vim.api.nvim_buf_set_lines(buf, empty and 0 or -1, -1, false, lines) -- a new buffer has one ''
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do -- follow the end where the log is shown
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

local function first_line(text)
  text = (text or ''):gsub('^%s+', '')
  local line = text:match('^[^\n]*') or ''
  if #line < #text then
    line = line .. ' …'
  end
  return line
end

-- One line of the log and, for the events worth a message, the notification and its level.
function M.describe(event)
  local kind, levels = event.kind, vim.log.levels
  if kind == 'started' then
    return 'Task started: ' .. (event.text or ''), levels.INFO
  elseif kind == 'turnStart' then
    return string.format('Turn %d', event.turn or 0), nil
  elseif kind == 'queued' then
    return 'Message queued until the turn ends: ' .. (event.text or ''), levels.INFO
  elseif kind == 'message' then
    return 'Cline: ' .. (event.text or ''), levels.INFO
  elseif kind == 'thought' then
    return 'Thinking: ' .. (event.text or ''), nil
  elseif kind == 'toolCall' then
    return string.format('Tool %s (%s): %s', event.toolKind or '?', event.status or '?',
      event.title or ''), event.status == 'failed' and levels.WARN or nil
  elseif kind == 'approval' then
    return string.format('Cline wants to %s: :ClineApprove or :ClineReject', event.title or '?'),
      levels.WARN
  elseif kind == 'approvalResolved' then
    return string.format('%s (%s)', event.outcome or '?', event.source or '?'), nil
  elseif kind == 'turnEnd' then
    return string.format('Turn %d over (%s); reply with :ClineSend', event.turn or 0,
      event.stopReason or '?'), levels.INFO
  elseif kind == 'error' then
    return 'Cline error: ' .. (event.message or '?'), levels.ERROR
  end
  return string.format('%s event', tostring(kind)), nil
end

function M.handlers()
  return {
    ['clineBridge/taskEvent'] = function(_, event, ctx)
      M.state = event.state or M.state
      local text, level = M.describe(event)
      append_log(string.format('[%s] %s', event.state or '?', text))
      if M.config.notify and level then
        vim.notify(first_line(text), level)
      end
      if M.config.on_task_event then
        M.config.on_task_event(event, vim.lsp.get_client_by_id(ctx.client_id))
      end
    end,
    -- The sidecar also asks "Cline wants to ..." as a dialog. Neovim 0.7's own dialog is a
    -- blocking inputlist(), which would hang a headless Neovim, and a handler cannot answer
    -- later: answer null ("dismissed"), which leaves the approval pending for :ClineApprove.
    ['window/showMessageRequest'] = function()
      return vim.NIL
    end,
  }
end

local function client()
  local found = M.client_id and vim.lsp.get_client_by_id(M.client_id)
  if not found then
    vim.notify('cline-bridge is not running (call setup())', vim.log.levels.ERROR)
  end
  return found
end

-- Run a cline-bridge command (workspace/executeCommand); on_result gets (err, result).
function M.execute(command, arguments, on_result)
  local c = client()
  if not c then
    return false
  end
  return c.request('workspace/executeCommand', { command = command, arguments = arguments or {} },
    function(err, result)
      if err then
        vim.notify(string.format('%s: %s', command, err.message or vim.inspect(err)),
          vim.log.levels.ERROR)
      end
      if on_result then
        on_result(err, result)
      end
    end)
end

function M.start_task(text, on_result)
  return M.execute('clineBridge.startNewTask', { text }, on_result)
end

function M.send(text, on_result)
  return M.execute('clineBridge.sendMessage', { text }, on_result)
end

function M.approve(on_result)
  return M.execute('clineBridge.pressPrimaryButton', {}, on_result)
end

function M.reject(on_result)
  return M.execute('clineBridge.pressSecondaryButton', {}, on_result)
end

function M.status(on_result)
  return M.execute('clineBridge.status', {}, on_result or function(err, result)
    if not err then
      vim.notify(vim.inspect(result))
    end
  end)
end

function M.show_log()
  vim.cmd('botright split')
  vim.api.nvim_win_set_buf(0, log_buffer())
end

-- Attach a file buffer, so that its text reaches the sidecar (code actions quote it).
function M.attach(bufnr)
  if M.client_id and vim.api.nvim_buf_get_option(bufnr, 'buftype') == ''
      and vim.api.nvim_buf_get_name(bufnr) ~= '' then
    vim.lsp.buf_attach_client(bufnr, M.client_id)
  end
end

local function init_options(config)
  local options = vim.deepcopy(config.init_options or {})
  if config.acp then
    local acp = { command = config.acp.command }
    if config.acp.env and next(config.acp.env) then -- an empty Lua table would go out as []
      acp.env = config.acp.env
    end
    options.acp = acp
  end
  return next(options) and options or vim.empty_dict()
end

function M.start(opts)
  M.config = vim.tbl_extend('force', vim.deepcopy(M.defaults), opts or {})
  local root = M.config.root_dir or vim.loop.cwd()
  M.client_id = vim.lsp.start_client({
    name = 'cline-bridge',
    cmd = M.config.cmd,
    cmd_cwd = root,
    root_dir = root,
    init_options = init_options(M.config),
    handlers = M.handlers(),
    -- Time for the sidecar to stop the Cline CLI when Neovim quits, before it is killed.
    flags = { exit_timeout = 3000 },
    on_init = function(c)
      -- Neovim 0.7 calls this before the client is listed and the open buffers are sent:
      -- run the hook after that, so that it can send requests about them.
      if M.config.on_init then
        vim.schedule(function() M.config.on_init(c) end)
      end
    end,
    on_exit = function(code, signal)
      if M.config.on_exit then
        M.config.on_exit(code, signal)
      end
    end,
  })
  return M.client_id
end

local function with_text(fn, prompt)
  return function(args)
    if args.args ~= '' then
      return fn(args.args)
    end
    vim.ui.input({ prompt = prompt }, function(text)
      if text and text ~= '' then
        fn(text)
      end
    end)
  end
end

-- The user commands; setup() creates them (call it yourself when another plugin starts the
-- client, as with nvim-lspconfig: set M.client_id in its on_init).
function M.create_commands()
  local command = vim.api.nvim_create_user_command
  command('ClineTask', with_text(function(text) M.start_task(text) end, 'Cline task: '),
    { nargs = '*', desc = 'Start a new Cline task' })
  command('ClineSend', with_text(function(text) M.send(text) end, 'Message to Cline: '),
    { nargs = '*', desc = 'Send a message to the Cline task' })
  command('ClineApprove', function() M.approve() end, { desc = "Approve Cline's request" })
  command('ClineReject', function() M.reject() end, { desc = "Reject Cline's request" })
  command('ClineStatus', function() M.status() end, { desc = 'Show the cline-bridge status' })
  command('ClineLog', M.show_log, { desc = 'Show the Cline task events' })
end

-- Start the sidecar, create the commands and attach every file buffer, now and later.
function M.setup(opts)
  if not M.start(opts) then
    vim.notify('cline-bridge: could not start ' .. table.concat(M.config.cmd, ' '),
      vim.log.levels.ERROR)
    return nil
  end
  M.create_commands()
  local group = vim.api.nvim_create_augroup('cline_bridge', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, {
    group = group,
    callback = function(args) M.attach(args.buf) end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      M.attach(bufnr)
    end
  end
  return M.client_id
end

return M
