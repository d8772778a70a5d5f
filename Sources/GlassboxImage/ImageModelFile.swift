import Foundation
import GlassboxNN
import GlassboxData

/// A trained image classifier on disk: the ``ModelFile`` weights and architecture, with the
/// ``ChannelNormalizer`` and class names in its metadata (keys `normalizer`, `class_names`, JSON)
/// so an explained image is scaled exactly as the training images were.
public enum ImageModelFile {
    /// Saves the network with its normaliser and class names (atomically).
    public static func save(_ model: any Layer, normalizer: ChannelNormalizer, classNames: [String], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try ModelFile.save(model, to: url, metadata: [
            "normalizer": String(decoding: try encoder.encode(normalizer), as: UTF8.self),
            "class_names": String(decoding: try encoder.encode(classNames), as: UTF8.self),
        ])
    }

    /// Loads a model saved by ``save(_:normalizer:classNames:to:)``; errors name the file and the metadata entry.
    public static func load(from url: URL) throws -> (model: any Layer, normalizer: ChannelNormalizer, classNames: [String]) {
        let (model, metadata) = try ModelFile.load(from: url)
        guard let text = metadata["normalizer"] else {
            throw GlassboxError.badFile(path: url.path, location: "metadata", problem: "no 'normalizer' entry: not an image model saved by train-images")
        }
        do {
            let normalizer = try JSONDecoder().decode(ChannelNormalizer.self, from: Data(text.utf8))
            let names = try metadata["class_names"].map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            return (model, normalizer, names)
        } catch {
            throw GlassboxError.badFile(path: url.path, location: "metadata", problem: "unreadable normalizer or class names: \(ErrorText.describe(error))")
        }
    }
}
