// libFuzzer harness: the safetensors reader must throw or succeed on any bytes, never trap.
import FuzzSupport
import GlassboxNN

runFuzzer { p, n in
    _ = try? SafeTensorsFile.decode(bytes(p, n), path: "fuzz.safetensors")
    return 0
}
