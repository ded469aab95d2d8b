io.write("before\n")
error("boom")
