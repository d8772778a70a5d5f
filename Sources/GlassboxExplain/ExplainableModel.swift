import Foundation
import GlassboxData
import GlassboxNN

/// A classifier loaded from a model file together with what explaining it needs: feature and
/// class names and the standardiser that maps raw rows to the model's inputs.
///
/// Attributions are computed in the model's input space — standardised features (z-scores) when
/// the file carries a standardiser — not in raw units.
public struct ExplainableModel {
    /// Metadata keys written by `glassbox train`.
    public enum Key {
        /// JSON array of feature names, in input order.
        public static let featureNames = "glassbox.feature_names"
        /// JSON array of class names, in output order.
        public static let classNames = "glassbox.class_names"
        /// JSON of the ``Standardizer`` fitted on the training rows.
        public static let standardizer = "glassbox.standardizer"
        /// Name of the target column.
        public static let target = "glassbox.target"
        /// JSON array of `{"name": …, "columns": […]}`: input columns that form one original
        /// column (a one-hot block), explained as one player.
        public static let groups = "glassbox.feature_groups"
    }

    private struct Group: Decodable {
        let name: String
        let columns: [Int]
    }

    /// The network.
    public let model: any Layer
    /// Input feature names, in order.
    public let featureNames: [String]
    /// Class names when the file has them.
    public let classNames: [String]?
    /// The transform from raw rows to model inputs, when the file has one.
    public let standardizer: Standardizer?
    /// The target column's name, when the file has it.
    public let target: String?
    /// Who receives attribution: the file's feature groups as single players, every other
    /// feature on its own.
    public let players: Players
    /// All of the file's metadata.
    public let metadata: [String: String]

    /// Loads a model file; every metadata entry is optional except the feature names when the
    /// input width cannot be read from the first layer.
    public static func load(from url: URL) throws -> ExplainableModel {
        let (model, metadata) = try ModelFile.load(from: url)
        if metadata["normalizer"] != nil {
            throw GlassboxError.badFile(path: url.path, location: "metadata 'normalizer'",
                                        problem: "this is an image model (saved by train-images, or imported with an image spec); "
                                            + "explain it with `glassbox explain-image`")
        }
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
            guard let text = metadata[key] else { return nil }
            do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
                throw GlassboxError.badFile(path: url.path, location: "metadata '\(key)'", problem: "not valid JSON for \(T.self): \(ErrorText.describe(error))")
            }
        }
        let standardizer = try decode(Standardizer.self, Key.standardizer)
        let width = standardizer?.mean.count ?? firstLinear(model)?.inFeatures
        var names = try decode([String].self, Key.featureNames)
        if names == nil, let width { names = (0..<width).map { "x\($0)" } }
        guard let featureNames = names else {
            throw GlassboxError.badFile(path: url.path, location: "metadata", problem: "no '\(Key.featureNames)' entry and no first Linear layer to tell the number of input features")
        }
        if let width, width != featureNames.count {
            throw GlassboxError.badFile(path: url.path, location: "metadata '\(Key.featureNames)'",
                                        problem: "\(featureNames.count) feature names for a model with \(width) inputs")
        }
        // A repeated name would make `rows(fromCSV:)` read one column twice and another never.
        var seen: [String: Int] = [:]
        for (i, name) in featureNames.enumerated() {
            if let first = seen[name] {
                throw GlassboxError.badFile(path: url.path, location: "metadata '\(Key.featureNames)'",
                                            problem: "'\(name)' appears twice (entries \(first) and \(i)); feature names must be unique")
            }
            seen[name] = i
        }
        let classNames = try decode([String].self, Key.classNames)
        if let classNames {
            // More names than outputs would shift every name onto the wrong class.
            let output: Tensor
            do { output = try model.predict(Tensor(repeating: 0, shape: [1, featureNames.count])) } catch {
                throw GlassboxError.badFile(path: url.path, location: "architecture",
                                            problem: "a forward pass of one row of \(featureNames.count) features fails: \(ErrorText.problem(error))")
            }
            guard output.rank == 2, output.shape[1] == classNames.count else {
                throw GlassboxError.badFile(path: url.path, location: "metadata '\(Key.classNames)'",
                                            problem: "\(classNames.count) class names for a network whose output is \(Array(output.shape.dropFirst()))")
            }
        }
        let groups = try decode([Group].self, Key.groups) ?? []
        let players: Players
        do {
            players = try Players(groups: groups.map(\.columns), groupNames: groups.map(\.name), features: featureNames.count,
                                  featureNames: featureNames)
        } catch {
            throw GlassboxError.badFile(path: url.path, location: "metadata '\(Key.groups)'", problem: ErrorText.describe(error))
        }
        return ExplainableModel(model: model, featureNames: featureNames, classNames: classNames,
                                standardizer: standardizer, target: metadata[Key.target], players: players, metadata: metadata)
    }

    private static func firstLinear(_ layer: any Layer) -> Linear? {
        if let linear = layer as? Linear { return linear }
        for child in layer.children { if let found = firstLinear(child.layer) { return found } }
        return nil
    }

    /// The model as a prediction function of its (standardised) inputs.
    public func predictionFunction(_ output: PredictionFunction.Output) throws -> PredictionFunction {
        output == .logit ? try .logits(of: model, features: featureNames.count)
                         : try .probabilities(of: model, features: featureNames.count)
    }

    /// Reads a CSV with a header, picks the model's feature columns by name (other columns are
    /// ignored), standardises them, and reads class labels from `target` (default: the model's
    /// target) when that column is present. Errors name the file, row and column.
    public func rows(fromCSV url: URL, target: String? = nil, limits: CSVLimits = .default) throws
        -> (inputs: Tensor, labels: [Int]?) {
        let records = try CSV.read(from: url, limits: limits)
        guard let header = records.first?.fields.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw GlassboxError.badFile(path: url.path, location: "", problem: "file is empty: expected a header row and data rows")
        }
        let body = records.dropFirst()
        guard !body.isEmpty else { throw GlassboxError.badFile(path: url.path, location: "row 1", problem: "the file has a header but no data rows") }
        let index = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let columns = try featureNames.map { name -> Int in
            guard let j = index[name] else {
                throw GlassboxError.badFile(path: url.path, location: "row 1", problem: "no column '\(name)', a feature of the model (model features: \(featureNames.joined(separator: ", ")))")
            }
            return j
        }
        var scalars: [Float] = []
        scalars.reserveCapacity(body.count * columns.count)
        for record in body where record.fields.count != header.count {
            throw GlassboxError.badFile(path: url.path, location: record.location,
                                        problem: "\(record.fields.count) fields, but the header has \(header.count)")
        }
        for record in body {
            for (name, j) in zip(featureNames, columns) {
                let cell = record.fields[j].trimmingCharacters(in: .whitespaces)
                guard let value = Float(cell), value.isFinite else {
                    throw GlassboxError.badFile(path: url.path, location: "\(record.location), column '\(name)'",
                                                problem: cell.isEmpty ? "empty cell (missing value)" : "'\(cell)' is not a finite number")
                }
                scalars.append(value)
            }
        }
        var inputs = Tensor(uncheckedShape: [body.count, columns.count], scalars: scalars)
        if let standardizer { inputs = try standardizer.transform(inputs) }
        guard let targetName = target ?? self.target, let t = index[targetName] else { return (inputs, nil) }
        var labels: [Int] = []
        for record in body {
            let cell = record.fields[t].trimmingCharacters(in: .whitespaces)
            let label = classNames.flatMap { $0.firstIndex(of: cell) } ?? Int(cell)
            guard let label, label >= 0, classNames.map({ label < $0.count }) ?? true else {
                throw GlassboxError.badFile(path: url.path, location: "\(record.location), column '\(targetName)'",
                                            problem: "'\(cell)' is not one of the model's classes\(classNames.map { " (\($0.joined(separator: ", ")))" } ?? "")")
            }
            labels.append(label)
        }
        return (inputs, labels)
    }
}
