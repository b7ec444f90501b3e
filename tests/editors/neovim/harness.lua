-- What every Neovim scenario shares: its inputs, the documented module, and one way to end.
--
-- The test (conftest.py) passes everything in CLINE_BRIDGE_TEST_* environment variables. A
-- scenario records what it saw in H.result and calls H.finish(); the harness then stops the
-- sidecar, waits for it to exit, writes H.result as JSON to CLINE_BRIDGE_TEST_RESULT and quits.
-- Any Lua error, and the deadline, end the run the same way with `error` set.

local H = {}

local function env(name, optional)
  local value = os.getenv(name)
  if (value == nil or value == '') and not optional then
    error('the test did not set ' .. name)
  end
  return value ~= '' and value or nil
end

local function json_env(name)
  local value = env(name, true)
  return value and vim.fn.json_decode(value) or nil
end

H.result_path = env('CLINE_BRIDGE_TEST_RESULT')
H.module = dofile(env('CLINE_BRIDGE_TEST_MODULE'))
H.server_cmd = json_env('CLINE_BRIDGE_TEST_SERVER')
H.acp = json_env('CLINE_BRIDGE_TEST_ACP')
H.init_options = json_env('CLINE_BRIDGE_TEST_INIT_OPTIONS') or {}
H.workspace = env('CLINE_BRIDGE_TEST_WORKSPACE')
H.prompt = env('CLINE_BRIDGE_TEST_PROMPT', true)
H.timeout_ms = tonumber(env('CLINE_BRIDGE_TEST_TIMEOUT_MS'))
H.started = vim.loop.hrtime()
H.result = { notifications = {} }

local finished = false
local server_exit = nil

function H.elapsed_ms()
  return math.floor((vim.loop.hrtime() - H.started) / 1e6)
end

-- What the documented module shows the user is part of the result.
vim.notify = function(message, level)
  table.insert(H.result.notifications, { message = message, level = level })
end

local function write_result()
  local path = H.result_path .. '.part'
  local file = assert(io.open(path, 'w'))
  file:write(vim.fn.json_encode(H.result))
  file:close()
  assert(os.rename(path, H.result_path))
end

-- Stop the sidecar (shutdown + exit), wait for it, write the result and quit Neovim.
function H.finish(fields)
  if finished then
    return
  end
  finished = true
  for key, value in pairs(fields or {}) do
    H.result[key] = value
  end
  local client_id = H.module.client_id
  if client_id and vim.lsp.get_client_by_id(client_id) then
    vim.lsp.stop_client(client_id)
    if not vim.wait(10000, function() return server_exit ~= nil end, 20) then
      H.result.server_exit_error = 'the sidecar did not exit within 10 s of shutdown'
    end
  end
  H.result.server_exit = server_exit
  H.result.elapsed_ms = H.elapsed_ms()
  local ok, err = pcall(write_result)
  if not ok then
    io.stderr:write('could not write the result: ' .. tostring(err) .. '\n')
  end
  vim.cmd('qa!')
end

function H.fail(message)
  H.finish({ error = message })
end

-- Wrap a callback so that a Lua error in it ends the run with the traceback.
function H.guard(fn)
  return function(...)
    local ok, err = xpcall(fn, debug.traceback, ...)
    if not ok then
      H.fail(err)
    end
  end
end

-- The options for the documented module's setup(), with what the test chose.
function H.setup_options(on_init, extra)
  local options = {
    cmd = H.server_cmd,
    acp = H.acp,
    init_options = H.init_options,
    root_dir = H.workspace,
    on_init = H.guard(on_init),
    on_exit = function(code, signal) -- a fast event: only record
      server_exit = { code = code, signal = signal }
    end,
  }
  return vim.tbl_extend('force', options, extra or {})
end

-- Fail unless check() holds `ms` milliseconds from now (for waits that may never end, such as
-- a menu Neovim does not open when it has no items).
function H.expect_within(ms, what, check)
  vim.defer_fn(function()
    if not check() then
      H.fail(string.format('no %s within %d ms', what, ms))
    end
  end, ms)
end

-- Run a scenario's main function; end the run at the deadline whatever happens.
function H.run(main)
  vim.defer_fn(function()
    H.fail(string.format('timed out after %d ms', H.timeout_ms))
  end, H.timeout_ms)
  H.guard(main)()
end

return H
