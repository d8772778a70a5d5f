// libFuzzer harness: the CSV dataset loader must throw or succeed on any bytes, never trap.
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? Dataset.parseCSV(bytes(p, n), path: "fuzz.csv", target: "target")
    return 0
}
