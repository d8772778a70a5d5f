// libFuzzer harness: the gzip/DEFLATE decoder must throw or succeed on any bytes, never trap, and
// never produce more than its output cap.
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    if let out = try? Inflate.gunzip(bytes(p, n), path: "fuzz.gz", maxOutput: 1 << 22) {
        precondition(out.count <= 1 << 22, "gunzip exceeded its output cap")
    }
    return 0
}
