/// The op types a ``GraphModel`` runs, by ONNX name. Each op type's semantics live in its own
/// class (its file says which); this table only maps names to them.
public enum GraphOps {
    /// Builders by op type.
    static let builders: [String: @Sendable (GraphNode, Int) throws -> any GraphOp] = {
        let types: [any GraphOp.Type] = [
            AddOp.self, SubOp.self, MulOp.self, DivOp.self,
            ReluOp.self, ClipOp.self, LeakyReluOp.self, PReluOp.self, SigmoidOp.self, HardSigmoidOp.self,
            HardSwishOp.self, TanhOp.self, SoftmaxOp.self, LogSoftmaxOp.self,
            ConvOp.self, GemmOp.self, MatMulOp.self,
            MaxPoolOp.self, AveragePoolOp.self, GlobalAveragePoolOp.self, BatchNormalizationOp.self, ReduceMeanOp.self,
            FlattenOp.self, ReshapeOp.self, TransposeOp.self, ConcatOp.self, SqueezeOp.self, UnsqueezeOp.self, PadOp.self,
            IdentityOp.self, DropoutOp.self, ShapeOp.self, GatherOp.self, SliceOp.self, CastOp.self,
            ConstantOp.self, ConstantOfShapeOp.self,
        ]
        var table: [String: @Sendable (GraphNode, Int) throws -> any GraphOp] = [:]
        for type in types {
            let maker = OpMaker(type: type)
            table[type.opType] = { try maker.type.init(node: $0, opset: $1) }
        }
        return table
    }()

    /// Known op types, sorted.
    public static var knownTypes: [String] { builders.keys.sorted() }
}

/// An op class, carried into the builder table (metatypes of non-Sendable classes are immutable
/// values, safe to share).
private struct OpMaker: @unchecked Sendable { let type: any GraphOp.Type }
