// libFuzzer harness: the IDX image and label readers (raw or gzip) must throw or succeed, never trap.
import FuzzSupport
import GlassboxData

runFuzzer { p, n in
    _ = try? IDX.decodeImages(bytes(p, n), path: "fuzz.idx3")
    _ = try? IDX.decodeLabels(bytes(p, n), path: "fuzz.idx1")
    return 0
}
