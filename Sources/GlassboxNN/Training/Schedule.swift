import Foundation

/// How the learning rate changes from epoch to epoch (the trainer applies it at each epoch end,
/// as `scheduler.step()` once per epoch does in PyTorch).
///
/// - `constant`: the base rate throughout.
/// - `step`: `base · γ^⌊epoch / stepSize⌋` (`torch.optim.lr_scheduler.StepLR`).
/// - `cosine`: `η_min + (base − η_min)·(1 + cos(π·epoch / T_max))/2`
///   (`CosineAnnealingLR`; past `T_max` it rises again, periodically, as PyTorch's does).
///
/// JSON form: `{"type": "constant"}`, `{"type": "step", "stepSize": 10, "gamma": 0.1}`,
/// `{"type": "cosine", "tMax": 20, "etaMin": 0}`.
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant
    case step(stepSize: Int, gamma: Float)
    case cosine(tMax: Int, etaMin: Float = 0)

    /// The rate for `epoch` (0-based: epoch 0 uses `base`).
    public func learningRate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .step(let stepSize, let gamma):
            return Float(Double(base) * pow(Double(gamma), Double(epoch / stepSize)))
        case .cosine(let tMax, let etaMin):
            let lo = Double(etaMin)
            return Float(lo + (Double(base) - lo) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2)
        }
    }

    /// Throws unless the schedule's settings are usable.
    public func validate() throws {
        switch self {
        case .constant:
            return
        case .step(let stepSize, let gamma):
            guard stepSize > 0, gamma.isFinite, gamma > 0 else {
                throw GlassboxError.invalidArgument("step schedule needs stepSize > 0 and gamma > 0, got \(stepSize), \(gamma)")
            }
        case .cosine(let tMax, let etaMin):
            guard tMax > 0, etaMin.isFinite, etaMin >= 0 else {
                throw GlassboxError.invalidArgument("cosine schedule needs tMax > 0 and etaMin ≥ 0, got \(tMax), \(etaMin)")
            }
        }
    }

    private enum Key: String, CodingKey { case type, stepSize, gamma, tMax, etaMin }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .type) {
        case "constant": self = .constant
        case "step": self = .step(stepSize: try c.decode(Int.self, forKey: .stepSize),
                                  gamma: try c.decodeIfPresent(Float.self, forKey: .gamma) ?? 0.1)
        case "cosine": self = .cosine(tMax: try c.decode(Int.self, forKey: .tMax),
                                      etaMin: try c.decodeIfPresent(Float.self, forKey: .etaMin) ?? 0)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown schedule '\(other)' (known: constant, step, cosine)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .constant:
            try c.encode("constant", forKey: .type)
        case .step(let stepSize, let gamma):
            try c.encode("step", forKey: .type)
            try c.encode(stepSize, forKey: .stepSize)
            try c.encode(gamma, forKey: .gamma)
        case .cosine(let tMax, let etaMin):
            try c.encode("cosine", forKey: .type)
            try c.encode(tMax, forKey: .tMax)
            try c.encode(etaMin, forKey: .etaMin)
        }
    }
}
