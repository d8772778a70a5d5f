import GlassboxNN

/// The class an image explanation or metric is about, checked at every entry point: a class
/// index read past the model's outputs would read another row's memory (a crash in release
/// builds), so every public function that takes a target validates it here first.
enum TargetClass {
    /// `target`, or the top-1 of `logits` when nil; throws when `target` is not one of the
    /// `logits.count` classes. `place` names the method for the message.
    static func resolve(_ target: Int?, logits: [Float], place: String) throws -> Int {
        guard let target else { return topClass(logits) }
        try check(target, classes: logits.count, place: place)
        return target
    }

    /// Throws unless `0 ≤ target < classes`.
    static func check(_ target: Int, classes: Int, place: String) throws {
        guard (0..<classes).contains(target) else {
            throw GlassboxError.invalidArgument(
                "\(place): target class \(target) does not exist: the model has \(classes) classes (0…\(classes - 1))")
        }
    }
}

extension MaskedClassifier {
    /// The number of classes the model gives for one image of `shape` (`[C, H, W]`), checking
    /// the image fits it: a 9×9 image for a net built for 8×8 fails here, before any explanation.
    ///
    /// - Throws: ``GlassboxError/shapeMismatch(_:)`` when the model cannot take the image or does
    ///   not return class logits.
    public func classCount(imageShape shape: [Int]) throws -> Int {
        try plans.classes(shape)
    }
}
