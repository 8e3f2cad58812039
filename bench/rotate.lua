-- wrk script: send the raw requests of a file in turn, one per request, so that every
-- request carries a different user's token. Usage: wrk ... -s rotate.lua -- FILE [EXPECT]
-- The file holds complete HTTP/1.1 requests separated by the byte 0x1e. With EXPECT, an
-- answer whose body lacks that text counts as unexpected (a refusal answered with 200).
-- When done, one JSON line tells the totals and the latency percentiles (microseconds).

local requests = {}
local position = 0
local threads = {}
unexpected = 0 -- global: read from each thread by done()

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  for request in string.gmatch(data, "([^\30]+)") do
    requests[#requests + 1] = request
  end
  -- Threads start at different places so that they do not send the same tokens together.
  position = math.random(#requests) - 1
  local expect = args[2]
  if expect then
    -- Defined only when asked: wrk reads answer bodies only for scripts with response().
    response = function(status, headers, body)
      if not string.find(body, expect, 1, true) then
        unexpected = unexpected + 1
      end
    end
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function done(summary, latency, requests)
  local errors = summary.errors
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("unexpected") or 0)
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"timeouts": %d, "unexpected": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write, errors.timeout, wrong,
    latency:percentile(50), latency:percentile(99)))
end
