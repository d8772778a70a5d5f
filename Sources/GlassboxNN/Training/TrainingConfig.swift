/// Everything that determines a training run besides the model and the data.
///
/// Same config (in particular the same `seed`) and the same `Compute.threads` give bit-identical
/// weights. JSON form (every key optional, defaults as below):
/// `{"epochs": 20, "batchSize": 64, "seed": 0, "optimizer": {"type": "adam", "learningRate": 0.001},
///   "schedule": {"type": "cosine", "tMax": 20}, "clipNorm": 1.0, "earlyStoppingPatience": 5,
///   "minDelta": 0, "monitor": "validationLoss", "restoreBestWeights": true}`.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// What early stopping watches.
    public enum Monitor: String, Codable, Sendable {
        /// Lower is better; needs validation data.
        case validationLoss
        /// Higher is better; needs validation data.
        case validationAccuracy
        /// Lower is better; for runs without validation data.
        case trainingLoss
    }

    /// Passes over the training data (≥ 1).
    public var epochs: Int
    /// Rows per mini-batch (≥ 1); the last batch of an epoch may be smaller.
    public var batchSize: Int
    /// Seeds shuffling and every stochastic layer (dropout).
    public var seed: UInt64
    /// The optimiser, with its base learning rate.
    public var optimizer: OptimizerChoice
    /// Learning rate per epoch, relative to the optimiser's base rate.
    public var schedule: LearningRateSchedule
    /// When set, gradients are clipped to this total L2 norm before each step.
    public var clipNorm: Float?
    /// Stop after this many consecutive epochs without improvement of `monitor` (nil: never stop early).
    public var earlyStoppingPatience: Int?
    /// Smallest change of `monitor` that counts as an improvement.
    public var minDelta: Float
    /// The quantity early stopping watches.
    public var monitor: Monitor
    /// With early stopping: end with the weights (and buffers) of the best epoch.
    public var restoreBestWeights: Bool

    /// Makes a configuration; every random choice of training derives from `seed`.
    public init(epochs: Int = 10, batchSize: Int = 32, seed: UInt64 = 0, optimizer: OptimizerChoice = .adam(),
                schedule: LearningRateSchedule = .constant, clipNorm: Float? = nil,
                earlyStoppingPatience: Int? = nil, minDelta: Float = 0, monitor: Monitor = .validationLoss,
                restoreBestWeights: Bool = true) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.optimizer = optimizer
        self.schedule = schedule
        self.clipNorm = clipNorm
        self.earlyStoppingPatience = earlyStoppingPatience
        self.minDelta = minDelta
        self.monitor = monitor
        self.restoreBestWeights = restoreBestWeights
    }

    /// Throws unless every setting is usable (the data-dependent checks happen in ``Trainer``).
    public func validate() throws {
        guard epochs >= 1 else { throw GlassboxError.invalidArgument("epochs must be ≥ 1, got \(epochs)") }
        guard batchSize >= 1 else { throw GlassboxError.invalidArgument("batch size must be ≥ 1, got \(batchSize)") }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw GlassboxError.invalidArgument("clipNorm must be finite and > 0, got \(clipNorm)")
        }
        if let patience = earlyStoppingPatience, patience < 0 {
            throw GlassboxError.invalidArgument("early stopping patience must be ≥ 0, got \(patience)")
        }
        guard minDelta.isFinite, minDelta >= 0 else {
            throw GlassboxError.invalidArgument("minDelta must be finite and ≥ 0, got \(minDelta)")
        }
        try schedule.validate()
        _ = try optimizer.make([])
    }

    private enum Key: String, CodingKey {
        case epochs, batchSize, seed, optimizer, schedule, clipNorm, earlyStoppingPatience, minDelta, monitor,
             restoreBestWeights
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let d = TrainingConfig()
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        optimizer = try c.decodeIfPresent(OptimizerChoice.self, forKey: .optimizer) ?? d.optimizer
        schedule = try c.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? d.schedule
        clipNorm = try c.decodeIfPresent(Float.self, forKey: .clipNorm)
        earlyStoppingPatience = try c.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience)
        minDelta = try c.decodeIfPresent(Float.self, forKey: .minDelta) ?? d.minDelta
        monitor = try c.decodeIfPresent(Monitor.self, forKey: .monitor) ?? d.monitor
        restoreBestWeights = try c.decodeIfPresent(Bool.self, forKey: .restoreBestWeights) ?? d.restoreBestWeights
    }
}

/// The optimiser of a training run and its settings (defaults as in `torch.optim`).
///
/// JSON form: `{"type": "sgd", "learningRate": 0.1, "momentum": 0.9, "nesterov": true,
/// "weightDecay": 0}`, `{"type": "adam", "learningRate": 0.001, "beta1": 0.9, "beta2": 0.999,
/// "eps": 1e-8, "weightDecay": 0}`, or `"adamw"` with the same keys (weight decay 0.01 by default).
public enum OptimizerChoice: Codable, Sendable, Equatable {
    case sgd(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0)
    case adam(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
              weightDecay: Float = 0)
    case adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
               weightDecay: Float = 1e-2)

    /// The base learning rate (before any schedule).
    public var learningRate: Float {
        switch self {
        case .sgd(let lr, _, _, _), .adam(let lr, _, _, _, _), .adamW(let lr, _, _, _, _): return lr
        }
    }

    /// A fresh optimiser over `parameters`.
    public func make(_ parameters: [Variable]) throws -> any Optimizer {
        switch self {
        case let .sgd(lr, momentum, nesterov, wd):
            return try SGD(parameters, learningRate: lr, momentum: momentum, nesterov: nesterov, weightDecay: wd)
        case let .adam(lr, b1, b2, eps, wd):
            return try Adam(parameters, learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: wd)
        case let .adamW(lr, b1, b2, eps, wd):
            return try AdamW(parameters, learningRate: lr, beta1: b1, beta2: b2, eps: eps, weightDecay: wd)
        }
    }

    private enum Key: String, CodingKey { case type, learningRate, momentum, nesterov, weightDecay, beta1, beta2, eps }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func value<T: Decodable>(_ key: Key, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        switch try c.decode(String.self, forKey: .type).lowercased() {
        case "sgd":
            self = .sgd(learningRate: try c.decode(Float.self, forKey: .learningRate),
                        momentum: try value(.momentum, 0), nesterov: try value(.nesterov, false),
                        weightDecay: try value(.weightDecay, 0))
        case "adam":
            self = .adam(learningRate: try value(.learningRate, 1e-3), beta1: try value(.beta1, 0.9),
                         beta2: try value(.beta2, 0.999), eps: try value(.eps, 1e-8),
                         weightDecay: try value(.weightDecay, 0))
        case "adamw":
            self = .adamW(learningRate: try value(.learningRate, 1e-3), beta1: try value(.beta1, 0.9),
                          beta2: try value(.beta2, 0.999), eps: try value(.eps, 1e-8),
                          weightDecay: try value(.weightDecay, 1e-2))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown optimizer '\(other)' (known: sgd, adam, adamw)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .sgd(lr, momentum, nesterov, wd):
            try c.encode("sgd", forKey: .type)
            try c.encode(lr, forKey: .learningRate)
            try c.encode(momentum, forKey: .momentum)
            try c.encode(nesterov, forKey: .nesterov)
            try c.encode(wd, forKey: .weightDecay)
        case let .adam(lr, b1, b2, eps, wd), let .adamW(lr, b1, b2, eps, wd):
            if case .adam = self { try c.encode("adam", forKey: .type) } else { try c.encode("adamw", forKey: .type) }
            try c.encode(lr, forKey: .learningRate)
            try c.encode(b1, forKey: .beta1)
            try c.encode(b2, forKey: .beta2)
            try c.encode(eps, forKey: .eps)
            try c.encode(wd, forKey: .weightDecay)
        }
    }
}
