-- wrk script: each request carries the next header of a file (one "Name: value" a line),
-- so the load rotates among several users' cookies or tokens.
-- Usage: wrk ... -s rotate.lua URL -- HEADERS_FILE

local headers = {}
local position = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      table.insert(headers, { name, value })
    end
  end
  file:close()
  assert(#headers > 0, "no headers in " .. args[1])
  -- Threads start at different users.
  position = math.random(#headers)
end

function request()
  position = position % #headers + 1
  local header = headers[position]
  return wrk.format("GET", wrk.path, { [header[1]] = header[2] })
end
