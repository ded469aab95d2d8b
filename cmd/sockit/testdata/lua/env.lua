-- Prints ncat's NCAT_* variables, one line, and ends.
print(os.getenv("NCAT_REMOTE_ADDR"), os.getenv("NCAT_REMOTE_PORT"),
  os.getenv("NCAT_LOCAL_ADDR"), os.getenv("NCAT_LOCAL_PORT"), os.getenv("NCAT_PROTO"))
