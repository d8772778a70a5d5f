import Foundation
import GlassboxNN
import SwiftProtobuf

/// Reads ONNX models (`.onnx`, protobuf `ModelProto`) into a ``GraphModel``.
///
/// Parsing uses the generated `onnx.pb.swift` (apple/swift-protobuf). The default-domain opset
/// decides attribute-vs-input forms (Clip, Squeeze/Unsqueeze, Pad, ReduceMean, Slice, Softmax).
/// Initialisers of type float32, float16, bfloat16, float64 and every integer type are converted
/// to float tensors (integers stay exact below 2^24, which covers shapes and indices); external
/// data is read from the file named beside the model, within its declared offset and length.
/// Every unsupported node (non-default domain or unknown op) is listed in one error; the graph
/// is then checked and simplified (``GraphSimplifier``).
///
/// Bounds against hostile files: the file at most 4 GiB, protobuf nesting at most 64 deep (the
/// decoder's limit), every tensor's declared element count checked against the bytes it holds
/// before anything is allocated, at most ``GraphModel/maxNodes`` nodes.
public enum ONNXImport {
    /// The opsets this importer understands (the default domain).
    public static let supportedOpsets = 7...23
    /// The largest model file read (bytes).
    public static let maxFileBytes = 4 << 30

    /// Reads `url` and returns the simplified graph model.
    public static func load(contentsOf url: URL) throws -> GraphModel {
        let data = try FileData.read(url, maxBytes: maxFileBytes)
        return try decode(data, path: url.path, directory: url.deletingLastPathComponent())
    }

    /// Decodes a model from its bytes; `path` names it in errors, `directory` is where external
    /// data files are looked for (nil: external data is refused).
    public static func decode(_ data: Data, path: String, directory: URL?) throws -> GraphModel {
        let (description, tensors) = try graph(from: data, path: path, directory: directory)
        do {
            let simple = try GraphSimplifier.simplify(description, tensors: tensors)
            return try GraphModel(description: simple.description, tensors: simple.tensors)
        } catch let error as GlassboxError {
            throw GlassboxError.badFile(path: path, location: "graph", problem: message(error))
        }
    }

    /// The graph description and initialiser values of an ONNX model, before simplification.
    public static func graph(from data: Data, path: String, directory: URL?) throws -> (GraphDescription, [String: Tensor]) {
        func bad(_ location: String, _ problem: String) -> GlassboxError {
            GlassboxError.badFile(path: path, location: location, problem: problem)
        }
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw bad("", "not a valid ONNX model (protobuf: \(error))")
        }
        guard model.hasGraph else { throw bad("", "the model has no graph") }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) }
            ?? (model.opsetImport.isEmpty ? 7 : 0)
        guard supportedOpsets.contains(opset) else {
            throw bad("opset_import", "default-domain opset \(opset) is not supported (\(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound))")
        }
        let g = model.graph
        guard g.node.count <= GraphModel.maxNodes else {
            throw bad("graph", "the graph has \(g.node.count) nodes; at most \(GraphModel.maxNodes) are supported")
        }

        var tensors: [String: Tensor] = [:]
        var infos: [GraphTensorInfo] = []
        for (i, t) in g.initializer.enumerated() {
            let name = t.name.isEmpty ? "initializer_\(i)" : t.name
            guard tensors[name] == nil else { throw bad("initializer '\(name)'", "listed twice") }
            let (value, integer) = try tensor(t, location: "initializer '\(name)'", path: path, directory: directory)
            tensors[name] = value
            infos.append(GraphTensorInfo(name: name, shape: value.shape, integer: integer))
        }
        let inputs = g.input.filter { tensors[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw bad("graph inputs", "Glassbox models take one input; this graph has \(inputs.count) (\(inputs.map(\.name).joined(separator: ", ")))")
        }
        var inputShape: [Int?] = []
        if case .tensorType(let tt)? = input.type.value {
            guard tt.elemType == 1 || tt.elemType == 0 else {
                throw bad("graph input '\(input.name)'", "element type \(tt.elemType) is not float32")
            }
            for (axis, dim) in tt.shape.dim.enumerated() {
                if case .dimValue(let v)? = dim.value {
                    guard v >= 0, v <= 1 << 31 else { throw bad("graph input '\(input.name)'", "extent \(v) of axis \(axis) is out of range") }
                    inputShape.append(Int(v))
                } else { inputShape.append(nil) }
            }
            do { try Tensor.validate(shape: inputShape.map { $0 ?? 1 }) } catch {
                throw bad("graph input '\(input.name)'", "shape \(inputShape.map { $0.map(String.init) ?? "?" }) is too large")
            }
        } else {
            throw bad("graph input '\(input.name)'", "the input's type is not a tensor")
        }

        var nodes: [GraphNode] = []
        var names = Set<String>()
        for (i, n) in g.node.enumerated() {
            var name = n.name.isEmpty ? "\(n.opType)_\(i)" : n.name
            if names.contains(name) { name = "\(name)_\(i)" }
            names.insert(name)
            let domain = n.domain == "ai.onnx" ? "" : n.domain
            let op = domain.isEmpty ? n.opType : "\(domain).\(n.opType)"
            var attributes: [String: GraphAttribute] = [:]
            for a in n.attribute {
                if let value = try attribute(a, location: "node '\(name)' attribute '\(a.name)'", path: path, directory: directory) {
                    attributes[a.name] = value
                }
            }
            nodes.append(GraphNode(name: name, op: op, inputs: n.input, outputs: n.output, attributes: attributes))
        }
        let description = GraphDescription(inputs: [GraphInput(name: input.name, shape: inputShape)],
                                           outputs: g.output.map(\.name), nodes: nodes, initializers: infos, opset: opset)
        return (description, tensors)
    }

    static func message(_ error: GlassboxError) -> String {
        switch error {
        case .invalidArgument(let m), .shapeMismatch(let m), .nonFinite(let m), .numerical(let m): return m
        default: return error.description
        }
    }

    private static func attribute(_ a: Onnx_AttributeProto, location: String, path: String, directory: URL?) throws -> GraphAttribute? {
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(Double(a.f))
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats.map { Double($0) })
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .tensor:
            let (t, integer) = try tensor(a.t, location: location, path: path, directory: directory)
            guard t.count <= 1 << 24 else {
                throw GlassboxError.badFile(path: path, location: location, problem: "a constant of \(t.count) values is too large for an attribute")
            }
            return .tensor(shape: t.shape, values: t.scalars.map { Double($0) }, integer: integer)
        default:
            // Sub-graphs and other kinds belong to ops Glassbox does not run; the op is reported.
            if a.hasI { return .int(Int(a.i)) }
            if a.hasF { return .float(Double(a.f)) }
            return nil
        }
    }

    /// ONNX element types: bytes per element, whether integer.
    static let elementTypes: [Int32: (bytes: Int, integer: Bool, name: String)] = [
        1: (4, false, "float32"), 2: (1, true, "uint8"), 3: (1, true, "int8"), 4: (2, true, "uint16"), 5: (2, true, "int16"),
        6: (4, true, "int32"), 7: (8, true, "int64"), 9: (1, true, "bool"), 10: (2, false, "float16"), 11: (8, false, "float64"),
        12: (4, true, "uint32"), 13: (8, true, "uint64"), 16: (2, false, "bfloat16"),
    ]

    /// Converts one `TensorProto` to a float tensor, checking sizes before allocating.
    static func tensor(_ t: Onnx_TensorProto, location: String, path: String, directory: URL?) throws -> (Tensor, Bool) {
        func bad(_ problem: String) -> GlassboxError { GlassboxError.badFile(path: path, location: location, problem: problem) }
        guard let type = elementTypes[t.dataType] else { throw bad("element type \(t.dataType) is not supported") }
        var shape: [Int] = []
        for d in t.dims {
            guard d >= 0, d <= 1 << 40 else { throw bad("extent \(d) in dims \(t.dims) is out of range") }
            shape.append(Int(d))
        }
        do { try Tensor.validate(shape: shape) } catch { throw bad("dims \(t.dims) are too large") }
        let count = shape.reduce(1, *)
        var raw: Data? = t.hasRawData ? t.rawData : nil
        if t.dataLocation == .external {
            raw = try external(t, bytes: count * type.bytes, location: location, path: path, directory: directory)
        }
        var values = [Float]()
        if let raw {
            guard raw.count == count * type.bytes else {
                throw bad("dims \(t.dims) of \(type.name) need \(count * type.bytes) bytes, the data holds \(raw.count)")
            }
            values = convert(raw, type: t.dataType, count: count)
        } else {
            let held: Int
            switch t.dataType {
            case 1: held = t.floatData.count
            case 11: held = t.doubleData.count
            case 7: held = t.int64Data.count
            case 12, 13: held = t.uint64Data.count
            default: held = t.int32Data.count
            }
            guard held == count else { throw bad("dims \(t.dims) need \(count) values, the tensor holds \(held)") }
            switch t.dataType {
            case 1: values = t.floatData
            case 11: values = t.doubleData.map { Float($0) }
            case 7: values = t.int64Data.map { Float($0) }
            case 12, 13: values = t.uint64Data.map { Float($0) }
            case 10: values = t.int32Data.map { halfToFloat(UInt16(truncatingIfNeeded: $0)) }
            case 16: values = t.int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) }
            case 9: values = t.int32Data.map { $0 != 0 ? 1 : 0 }
            default: values = t.int32Data.map { Float($0) }
            }
        }
        if !type.integer {
            guard values.allSatisfy(\.isFinite) else { throw bad("contains NaN or infinite values") }
        }
        return (Tensor(uncheckedShape: shape, scalars: values), type.integer)
    }

    /// Reads an external-data tensor: `location` relative to the model's directory (no absolute
    /// paths, no `..`), `offset` and `length` within the file.
    static func external(_ t: Onnx_TensorProto, bytes: Int, location: String, path: String, directory: URL?) throws -> Data {
        func bad(_ problem: String) -> GlassboxError { GlassboxError.badFile(path: path, location: location, problem: problem) }
        var entries: [String: String] = [:]
        for e in t.externalData { entries[e.key] = e.value }
        guard let file = entries["location"], !file.isEmpty else { throw bad("external data without a location") }
        guard let directory else { throw bad("external data ('\(file)') cannot be read: the model was not loaded from a file") }
        guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
            throw bad("external data location '\(file)' must be a path inside the model's directory")
        }
        let offset = Int(entries["offset"] ?? "0") ?? -1
        let length = entries["length"].map { Int($0) ?? -1 } ?? bytes
        guard offset >= 0, length == bytes else {
            throw bad("external data offset \(entries["offset"] ?? "") / length \(entries["length"] ?? "") do not fit the tensor's \(bytes) bytes")
        }
        let url = directory.appendingPathComponent(file)
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw bad("external data file '\(url.path)' cannot be opened") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        guard UInt64(offset) + UInt64(bytes) <= size else {
            throw bad("external data '\(file)' holds \(size) bytes; the tensor needs \(bytes) from offset \(offset)")
        }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: bytes) ?? Data()
        guard data.count == bytes else { throw bad("external data '\(file)' ended early") }
        return data
    }

    static func convert(_ raw: Data, type: Int32, count: Int) -> [Float] {
        raw.withUnsafeBytes { (p: UnsafeRawBufferPointer) -> [Float] in
            func le<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T { T(littleEndian: p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
            switch type {
            case 1: return (0..<count).map { Float(bitPattern: le($0, UInt32.self)) }
            case 11: return (0..<count).map { Float(Double(bitPattern: le($0, UInt64.self))) }
            case 10: return (0..<count).map { halfToFloat(le($0, UInt16.self)) }
            case 16: return (0..<count).map { Float(bitPattern: UInt32(le($0, UInt16.self)) << 16) }
            case 2: return (0..<count).map { Float(le($0, UInt8.self)) }
            case 3: return (0..<count).map { Float(le($0, Int8.self)) }
            case 4: return (0..<count).map { Float(le($0, UInt16.self)) }
            case 5: return (0..<count).map { Float(le($0, Int16.self)) }
            case 6: return (0..<count).map { Float(le($0, Int32.self)) }
            case 7: return (0..<count).map { Float(le($0, Int64.self)) }
            case 9: return (0..<count).map { le($0, UInt8.self) != 0 ? 1 : 0 }
            case 12: return (0..<count).map { Float(le($0, UInt32.self)) }
            case 13: return (0..<count).map { Float(le($0, UInt64.self)) }
            default: return []
            }
        }
    }

    /// IEEE half → float (subnormals, infinities and NaN included).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31, exponent = Int((h >> 10) & 0x1F), mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
