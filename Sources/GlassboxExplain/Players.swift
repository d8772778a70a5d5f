import GlassboxNN

/// Who receives attribution: by default each input column is a player; columns that only make
/// sense together (the one-hot columns of one categorical variable) can form one player, which
/// enters or leaves a coalition as a whole and receives one value.
public struct Players: Sendable, Equatable {
    /// Input columns of each player; together they cover every column exactly once.
    public let groups: [[Int]]
    /// One name per player.
    public let names: [String]
    /// Input columns of the model.
    public let features: Int

    /// One player per column, named `names` (default `x0`, `x1`, …).
    public init(features: Int, names: [String]? = nil) throws {
        guard features > 0 else { throw GlassboxError.invalidArgument("players need at least one feature, got \(features)") }
        let names = names ?? (0..<features).map { "x\($0)" }
        guard names.count == features else {
            throw GlassboxError.shapeMismatch("\(names.count) feature names for \(features) features")
        }
        self.groups = (0..<features).map { [$0] }
        self.names = names
        self.features = features
    }

    /// Players made of the given groups of columns. Columns in no group become players of their
    /// own (after the groups, in column order), so `groups` can list just the one-hot blocks.
    /// `groupNames` names the groups; lone columns take their name from `featureNames`.
    public init(groups: [[Int]], groupNames: [String]? = nil, features: Int, featureNames: [String]? = nil) throws {
        guard features > 0 else { throw GlassboxError.invalidArgument("players need at least one feature, got \(features)") }
        let featureNames = featureNames ?? (0..<features).map { "x\($0)" }
        guard featureNames.count == features else {
            throw GlassboxError.shapeMismatch("\(featureNames.count) feature names for \(features) features")
        }
        var owner = [Int?](repeating: nil, count: features)
        for (g, group) in groups.enumerated() {
            guard !group.isEmpty else { throw GlassboxError.invalidArgument("player group \(g) is empty") }
            for column in group {
                guard (0..<features).contains(column) else {
                    throw GlassboxError.invalidArgument("player group \(g) names column \(column), outside 0..<\(features)")
                }
                if let other = owner[column] {
                    throw GlassboxError.invalidArgument("column \(column) is in player groups \(other) and \(g); groups must not overlap")
                }
                owner[column] = g
            }
        }
        let names = groupNames ?? groups.map { $0.map { featureNames[$0] }.joined(separator: "+") }
        guard names.count == groups.count else {
            throw GlassboxError.shapeMismatch("\(names.count) group names for \(groups.count) groups")
        }
        let loners = (0..<features).filter { owner[$0] == nil }
        self.groups = groups + loners.map { [$0] }
        self.names = names + loners.map { featureNames[$0] }
        self.features = features
    }

    /// Number of players.
    public var count: Int { groups.count }

    /// Sums per-column values `[rows, outputs, features]` into per-player values `[rows, outputs, players]`.
    func pool(_ perColumn: [Float], slices: Int) -> [Float] {
        let p = count
        var out = [Float](repeating: 0, count: slices * p)
        for s in 0..<slices {
            for (player, group) in groups.enumerated() {
                var sum: Float = 0
                for column in group { sum += perColumn[s * features + column] }
                out[s * p + player] = sum
            }
        }
        return out
    }
}
