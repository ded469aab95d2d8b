-- Greets, then answers every line in upper case until the peer's EOF.
print("hello " .. os.getenv("NCAT_PROTO"))
for line in io.lines() do
  io.write(line:upper(), "\n")
end
io.write("bye\n")
