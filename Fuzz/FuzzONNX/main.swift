// libFuzzer harness: importing an ONNX model (protobuf parse, tensor conversion, graph checks,
// constant folding) must throw or succeed on any bytes, never trap. External data is refused
// (no directory), so the harness touches no files.
import FuzzSupport
import GlassboxONNX

runFuzzer { p, n in
    _ = try? ONNXImport.decode(bytes(p, n), path: "fuzz.onnx", directory: nil)
    return 0
}
