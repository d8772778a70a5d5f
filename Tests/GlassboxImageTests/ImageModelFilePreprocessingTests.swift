import Foundation
import Testing
@testable import GlassboxImage
import GlassboxData
import GlassboxNN

/// The model file carries a photo model's ImagePreprocessing (metadata key `preprocessing`).
@Suite struct ImageModelFilePreprocessingTests {
    func temporary() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("gb-pre-\(UUID().uuidString).safetensors")
    }

    @Test func preprocessingRoundTrips() throws {
        let url = temporary()
        defer { try? FileManager.default.removeItem(at: url) }
        let model = try TestNets.residualNet()
        let normalizer = ChannelNormalizer(mean: [0], std: [1])
        let pre = try ImagePreprocessing(resize: 14, crop: [12, 12], interpolation: .bicubic, scale: 1, mean: [127], std: [128], channels: "L")
        try ImageModelFile.save(model, normalizer: normalizer, classNames: ["a", "b", "c"], preprocessing: pre, to: url)
        let loaded = try ImageModelFile.loadContents(from: url)
        #expect(loaded.preprocessing == pre && loaded.classNames == ["a", "b", "c"] && loaded.normalizer == normalizer)
        // The older loader still reads the file.
        #expect(try ImageModelFile.load(from: url).classNames == ["a", "b", "c"])
    }

    @Test func filesWithoutPreprocessingLoadWithNone() throws {
        let url = temporary()
        defer { try? FileManager.default.removeItem(at: url) }
        try ImageModelFile.save(try TestNets.residualNet(), normalizer: ChannelNormalizer(mean: [0.5], std: [2]), classNames: [], to: url)
        #expect(try ImageModelFile.loadContents(from: url).preprocessing == nil)
    }

    @Test func badPreprocessingNamesTheEntry() throws {
        let url = temporary()
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(try TestNets.residualNet(), to: url, metadata: [
            "normalizer": #"{"mean":[0],"std":[1]}"#, "preprocessing": #"{"channels":"XYZ"}"#])
        #expect {
            _ = try ImageModelFile.loadContents(from: url)
        } throws: { error in
            "\(error)".contains("metadata 'preprocessing'") && "\(error)".contains("channels")
        }
    }
}
