// libFuzzer harness: the architecture JSON of a model file (LayerSpec decoding, the size check
// against the weights, LayerRegistry.build and the tensor assignment) must throw or succeed on any
// text, never trap, recurse without bound or allocate far beyond the file's size. The input is the
// architecture; the weights are a fixed Linear(3 → 2), so a matching architecture loads.
import Foundation
import FuzzSupport
import GlassboxNN

let weights: [String: Tensor] = [
    "0.weight": Tensor(uncheckedShape: [2, 3], scalars: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6]),
    "0.bias": Tensor(uncheckedShape: [2], scalars: [0.01, -0.02]),
]

runFuzzer { p, n in
    var file = SafeTensorsFile(tensors: weights, order: ["0.weight", "0.bias"])
    file.metadata[ModelFile.architectureKey] = String(decoding: bytes(p, n), as: UTF8.self)
    guard let data = try? file.encoded() else { return 0 }
    _ = try? ModelFile.decode(data, path: "fuzz.safetensors")
    return 0
}
