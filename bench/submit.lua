-- wrk script: POST a complete SIPAS form with a fresh submission id (uid) per request.
-- Arguments after "--": body template file (with __UID__), a run nonce of 8 hex digits,
-- and optionally the mean think time in ms between one connection's requests (0: none,
-- a closed loop at full speed; otherwise exponential, as independent citizens arrive).
local threads = {}
local counter = 0
local think = 0
local prefix, suffix

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  local template = f:read("*a")
  f:close()
  local at = string.find(template, "__UID__", 1, true)
  prefix = string.sub(template, 1, at - 1)
  suffix = string.sub(template, at + 7)
  nonce = args[2]
  think = tonumber(args[3] or "0")
  math.randomseed(os.time() + tid * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function delay()
  if think <= 0 then return 0 end
  return math.floor(-think * math.log(1 - math.random()))
end

function request()
  counter = counter + 1
  -- A valid uuid, unique per run (nonce), thread and request.
  local uid = string.format("%s-%04x-4000-8000-%012x", nonce, tid, counter)
  return wrk.format(nil, nil, nil, prefix .. uid .. suffix)
end
