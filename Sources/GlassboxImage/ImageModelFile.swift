import Foundation
import GlassboxNN
import GlassboxData

/// A trained image classifier on disk: the ``ModelFile`` weights and architecture, with the
/// ``ChannelNormalizer`` and class names in its metadata (keys `normalizer`, `class_names`, JSON)
/// so an explained image is scaled exactly as the training images were, and optionally the
/// ``ImagePreprocessing`` for photos (key `preprocessing`, the same JSON as the import spec's).
public enum ImageModelFile {
    /// Saves the network with its normaliser, class names and, for photo models, the
    /// ``ImagePreprocessing`` that turns a photo into its input (key `preprocessing`), atomically.
    public static func save(_ model: any Layer, normalizer: ChannelNormalizer, classNames: [String],
                            preprocessing: ImagePreprocessing? = nil, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var metadata = [
            "normalizer": String(decoding: try encoder.encode(normalizer), as: UTF8.self),
            "class_names": String(decoding: try encoder.encode(classNames), as: UTF8.self),
        ]
        if let preprocessing { metadata["preprocessing"] = String(decoding: try encoder.encode(preprocessing), as: UTF8.self) }
        try ModelFile.save(model, to: url, metadata: metadata)
    }

    /// Everything an image model file holds.
    public struct Contents {
        public var model: any Layer
        /// Applied to images in 0…1 when there is no `preprocessing`.
        public var normalizer: ChannelNormalizer
        public var classNames: [String]
        /// How photos become the model's input; when present it replaces `normalizer`.
        public var preprocessing: ImagePreprocessing?
    }

    /// Loads a model saved by ``save(_:normalizer:classNames:preprocessing:to:)`` with its
    /// preprocessing; errors name the file and the metadata entry.
    public static func loadContents(from url: URL) throws -> Contents {
        let (model, metadata) = try ModelFile.load(from: url)
        let (normalizer, names) = try parse(metadata, path: url.path)
        var preprocessing: ImagePreprocessing?
        if let text = metadata["preprocessing"] {
            do { preprocessing = try JSONDecoder().decode(ImagePreprocessing.self, from: Data(text.utf8)) } catch {
                throw GlassboxError.badFile(path: url.path, location: "metadata 'preprocessing'", problem: "unreadable: \(error)")
            }
        }
        return Contents(model: model, normalizer: normalizer, classNames: names, preprocessing: preprocessing)
    }

    /// Loads a model saved by ``save(_:normalizer:classNames:to:)``; errors name the file and the metadata entry.
    public static func load(from url: URL) throws -> (model: any Layer, normalizer: ChannelNormalizer, classNames: [String]) {
        let (model, metadata) = try ModelFile.load(from: url)
        let (normalizer, names) = try parse(metadata, path: url.path)
        return (model, normalizer, names)
    }

    private static func parse(_ metadata: [String: String], path: String) throws -> (ChannelNormalizer, [String]) {
        guard let text = metadata["normalizer"] else {
            throw GlassboxError.badFile(path: path, location: "metadata", problem: "no 'normalizer' entry: not an image model saved by train-images")
        }
        do {
            let normalizer = try JSONDecoder().decode(ChannelNormalizer.self, from: Data(text.utf8))
            let names = try metadata["class_names"].map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            return (normalizer, names)
        } catch {
            throw GlassboxError.badFile(path: path, location: "metadata", problem: "unreadable normalizer or class names: \(error)")
        }
    }
}
