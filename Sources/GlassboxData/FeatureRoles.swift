import Foundation
import GlassboxNN

/// What a feature of a synthetic dataset is, in `make_classification`'s vocabulary.
public enum FeatureRole: String, Codable, Sendable, CaseIterable {
    /// Carries the class signal directly (cluster centroids differ along it).
    case informative
    /// A linear combination of the informative features.
    case redundant
    /// A copy of an informative or redundant feature.
    case repeated
    /// Independent `N(0, 1)` noise, unrelated to the class.
    case noise

    /// Whether the feature carries class information (every role but noise).
    public var isRelevant: Bool { self != .noise }
}

/// The ground-truth role of every feature of a dataset, stored as a JSON sidecar next to its CSV:
/// `{"features": [{"name": "x0", "role": "informative"}, …], "seed": 42, "parameters": {…}}`.
public struct FeatureRoles: Codable, Sendable, Equatable {
    /// One feature's role and, for derived features, what it derives from.
    public struct Feature: Codable, Sendable, Equatable {
        /// The column name.
        public var name: String
        /// Informative, redundant, repeated or noise.
        public var role: FeatureRole
        /// The informative features a redundant or repeated feature derives from.
        public var sources: [String]?
        /// For a redundant feature: `x = Σ coefficients[i] · sources[i]`, exact before the
        /// generator's shift and scale (affine after them).
        public var coefficients: [Double]?
        /// For a repeated feature: the feature it copies.
        public var copyOf: String?

        /// Makes a feature description.
        public init(name: String, role: FeatureRole, sources: [String]? = nil, coefficients: [Double]? = nil, copyOf: String? = nil) {
            self.name = name
            self.role = role
            self.sources = sources
            self.coefficients = coefficients
            self.copyOf = copyOf
        }

        private enum CodingKeys: String, CodingKey {
            case name, role, sources, coefficients
            case copyOf = "copy_of"
        }
    }

    /// In the dataset's feature order.
    public var features: [Feature]
    /// The generator's seed, if the data are synthetic.
    public var seed: UInt64?
    /// The generator's parameters, if the data are synthetic.
    public var parameters: SyntheticClassification.Parameters?

    /// Makes the roles of a generated table.
    public init(features: [Feature], seed: UInt64? = nil, parameters: SyntheticClassification.Parameters? = nil) {
        self.features = features
        self.seed = seed
        self.parameters = parameters
    }

    /// The role of each feature, in order.
    public var roles: [FeatureRole] { features.map(\.role) }

    /// Positions of the features with `role`, increasing.
    public func indices(of role: FeatureRole) -> [Int] {
        features.indices.filter { features[$0].role == role }
    }

    /// How many features have each role.
    public var counts: [FeatureRole: Int] {
        Dictionary(features.map { ($0.role, 1) }, uniquingKeysWith: +)
    }

    /// Checks that names are unique, that sources and copies name existing features, and that a
    /// redundant feature has one coefficient per source.
    public func validate() throws {
        var seen = Set<String>()
        for feature in features {
            guard seen.insert(feature.name).inserted else { throw GlassboxError.invalidArgument("feature '\(feature.name)' appears twice") }
        }
        for feature in features {
            for source in (feature.sources ?? []) + [feature.copyOf].compactMap({ $0 }) where !seen.contains(source) {
                throw GlassboxError.invalidArgument("feature '\(feature.name)' derives from '\(source)', which is not a feature")
            }
            if let coefficients = feature.coefficients, coefficients.count != feature.sources?.count ?? 0 {
                throw GlassboxError.invalidArgument(
                    "feature '\(feature.name)' has \(coefficients.count) coefficients for \(feature.sources?.count ?? 0) sources")
            }
        }
    }

    /// Checks that these roles describe `dataset`'s features, by name and order.
    public func validate(for dataset: Dataset) throws {
        let names = features.map(\.name)
        guard names == dataset.featureNames else {
            let mismatch = zip(names, dataset.featureNames).enumerated().first { $1.0 != $1.1 }
            let detail = mismatch.map { "feature \($0.offset) is '\($0.element.1)' in the dataset but '\($0.element.0)' in the roles" }
                ?? "\(dataset.featureCount) features in the dataset, \(names.count) in the roles"
            throw GlassboxError.invalidArgument("roles do not match the dataset: \(detail)")
        }
    }

    /// The JSON text (pretty-printed, sorted keys).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Writes the JSON atomically (see ``AtomicFile``).
    public func write(to url: URL) throws {
        try AtomicFile.write(jsonData(), to: url)
    }

    /// Reads and validates a roles file.
    ///
    /// - Throws: ``GlassboxError/badFile(path:location:problem:)`` if it is not valid JSON of this
    ///   shape or fails ``validate()``.
    public static func read(from url: URL) throws -> FeatureRoles {
        try decode(FileData.read(url, maxBytes: 256 << 20), path: url.path)
    }

    /// Decodes roles JSON; `path` is used in error messages only.
    public static func decode(_ data: Data, path: String) throws -> FeatureRoles {
        let roles: FeatureRoles
        do {
            roles = try JSONDecoder().decode(FeatureRoles.self, from: data)
        } catch let error as DecodingError {
            throw GlassboxError.badFile(path: path, location: describe(error).location, problem: describe(error).problem)
        }
        do {
            try roles.validate()
        } catch let GlassboxError.invalidArgument(message) {
            throw GlassboxError.badFile(path: path, location: "", problem: message)
        }
        return roles
    }

    private static func describe(_ error: DecodingError) -> (location: String, problem: String) {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return (path(context), "missing key '\(key.stringValue)'")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return (path(context), context.debugDescription)
        @unknown default:
            return ("", "\(error)")
        }
    }
}
