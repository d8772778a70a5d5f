// libFuzzer harness: loading a model file (safetensors + architecture JSON + weights) must throw or
// succeed on any bytes, never trap.
import FuzzSupport
import GlassboxNN

runFuzzer { p, n in
    _ = try? ModelFile.decode(bytes(p, n), path: "fuzz.safetensors")
    return 0
}
