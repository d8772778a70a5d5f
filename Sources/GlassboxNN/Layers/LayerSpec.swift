import Foundation

/// A JSON-compatible attribute value of a ``LayerSpec``.
public enum SpecValue: Codable, Equatable, Sendable {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case ints([Int])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([Int].self) { self = .ints(a) }
        else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a number, bool, string or integer array")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .ints(let v): try c.encode(v)
        }
    }
}

/// The architecture of a layer as data: a type name (PyTorch's class names: `Linear`, `Conv2d`,
/// `ReLU`, `Sequential`…), attributes, and child specs.
///
/// It is stored as JSON in a model file's metadata and rebuilds the model with
/// ``LayerRegistry/build(_:seed:)``. JSON form is flat:
/// `{"type": "Linear", "in_features": 16, "out_features": 64, "bias": true}`, with children under
/// `"layers"` (and `"names"` when they are not `"0"`, `"1"`, …).
public struct LayerSpec: Codable, Equatable, Sendable {
    /// The layer type (PyTorch's class name, e.g. `Conv2d`).
    public var type: String
    /// Constructor arguments by PyTorch's names (`in_features`, `kernel_size`…).
    public var attributes: [String: SpecValue]
    /// Specs of child layers, in order (containers only).
    public var children: [LayerSpec]
    /// Names of the children (defaults to their indices).
    public var childNames: [String]?

    /// Makes a spec.
    public init(type: String, attributes: [String: SpecValue] = [:], children: [LayerSpec] = [],
                childNames: [String]? = nil) {
        self.type = type
        self.attributes = attributes
        self.children = children
        self.childNames = childNames
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        type = try c.decode(String.self, forKey: Key(stringValue: "type"))
        children = try c.decodeIfPresent([LayerSpec].self, forKey: Key(stringValue: "layers")) ?? []
        childNames = try c.decodeIfPresent([String].self, forKey: Key(stringValue: "names"))
        attributes = [:]
        for key in c.allKeys where !["type", "layers", "names"].contains(key.stringValue) {
            attributes[key.stringValue] = try c.decode(SpecValue.self, forKey: key)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(type, forKey: Key(stringValue: "type"))
        for (k, v) in attributes { try c.encode(v, forKey: Key(stringValue: k)) }
        if !children.isEmpty { try c.encode(children, forKey: Key(stringValue: "layers")) }
        if let childNames { try c.encode(childNames, forKey: Key(stringValue: "names")) }
    }

    /// The JSON text of this spec (sorted keys: stable across runs).
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Parses a spec from JSON text.
    public static func parse(json: String) throws -> LayerSpec {
        if let problem = JSONNesting.problem(in: Data(json.utf8)) {
            throw GlassboxError.invalidArgument("architecture JSON: \(problem)")
        }
        do {
            return try JSONDecoder().decode(LayerSpec.self, from: Data(json.utf8))
        } catch let error as DecodingError {
            throw GlassboxError.invalidArgument("architecture JSON: \(LayerSpec.describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ p: [CodingKey]) -> String {
            p.isEmpty ? "top level" : p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c): return "\(c.debugDescription) at \(path(c.codingPath))"
        case .keyNotFound(let k, let c): return "missing key '\(k.stringValue)' at \(path(c.codingPath))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription) at \(path(c.codingPath))"
        @unknown default: return "\(error)"
        }
    }

    // MARK: typed attribute access, with errors naming the layer type and key

    /// The integer attribute `key`; throws when it is missing or not an integer.
    public func int(_ key: String) throws -> Int {
        switch attributes[key] {
        case .int(let v)?: return v
        case .double(let v)? where v == v.rounded() && abs(v) < 1e15: return Int(v)
        case nil: throw GlassboxError.invalidArgument("\(type): missing attribute '\(key)'")
        default: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be an integer")
        }
    }

    /// The integer attribute `key`, or `value` when absent.
    public func int(_ key: String, default value: Int) throws -> Int {
        attributes[key] == nil ? value : try int(key)
    }

    /// The numeric attribute `key`, or `value` when absent.
    public func double(_ key: String, default value: Double) throws -> Double {
        switch attributes[key] {
        case .double(let v)?: return v
        case .int(let v)?: return Double(v)
        case nil: return value
        default: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be a number")
        }
    }

    /// The Boolean attribute `key`, or `value` when absent.
    public func bool(_ key: String, default value: Bool) throws -> Bool {
        switch attributes[key] {
        case .bool(let v)?: return v
        case nil: return value
        default: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be true or false")
        }
    }

    /// The string attribute `key`, or `value` when absent.
    public func string(_ key: String, default value: String) throws -> String {
        switch attributes[key] {
        case .string(let v)?: return v
        case nil: return value
        default: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be a string")
        }
    }

    /// An integer pair such as a kernel size: accepts `3` or `[3, 3]`.
    public func pair(_ key: String, default value: (Int, Int)? = nil) throws -> (Int, Int) {
        switch attributes[key] {
        case .int(let v)?: return (v, v)
        case .ints(let a)? where a.count == 2: return (a[0], a[1])
        case .ints?: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be an integer or a pair")
        case nil:
            if let value { return value }
            throw GlassboxError.invalidArgument("\(type): missing attribute '\(key)'")
        default: throw GlassboxError.invalidArgument("\(type): attribute '\(key)' must be an integer or a pair")
        }
    }
}

/// Builds layers from specs. Each layer type registers a builder under its type name.
public enum LayerRegistry {
    /// Makes a layer (and its children) from a spec, initialising parameters from `seed`.
    public static func build(_ spec: LayerSpec, seed: UInt64 = 0) throws -> any Layer {
        var rng = SeededGenerator(seed: seed)
        return try build(spec, rng: &rng)
    }

    /// Makes a layer, drawing initial parameters from `rng`.
    public static func build(_ spec: LayerSpec, rng: inout SeededGenerator) throws -> any Layer {
        guard let builder = builders[spec.type] else {
            throw GlassboxError.invalidArgument(
                "unknown layer type '\(spec.type)' (known: \(builders.keys.sorted().joined(separator: ", ")))")
        }
        return try builder(spec, &rng)
    }

    /// Known layer types.
    public static var knownTypes: [String] { builders.keys.sorted() }

}
