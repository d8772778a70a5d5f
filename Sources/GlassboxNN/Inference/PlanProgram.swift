/// The immutable part of an ``InferencePlan``: steps, values and the buffer layout, shared by
/// copies of a plan.
final class PlanProgram: @unchecked Sendable {
    let steps: [PlanStep]
    let input: PlanValue, output: PlanValue
    /// Floats per sample of each physical buffer of a workspace.
    let bufferSizes: [Int]
    /// Floats of per-worker scratch (the largest any step needs).
    let scratchFloats: Int
    let flopsPerSample: Int
    let mixesSamples: Bool
    /// Index of the step producing each value id (nil for the input and views).
    let producer: [Int?]
    /// Most samples a worker pushes through the steps at once: 64 for images (their activations
    /// fill the caches), more for narrow models such as MLPs so that per-step overhead is paid
    /// once per few hundred rows; the activations of a chunk stay within ~64 KiB per buffer.
    let chunkLimit: Int

    init(steps: [PlanStep], values: [PlanValue], input: PlanValue, output: PlanValue) {
        (self.steps, self.input, self.output) = (steps, input, output)
        var producer = [Int?](repeating: nil, count: values.count)
        for (i, step) in steps.enumerated() { producer[step.output.id] = i }
        self.producer = producer
        bufferSizes = PlanProgram.assignBuffers(steps, values)
        chunkLimit = Swift.max(InferencePlan.maximumChunk, Swift.min(512, 16_384 / Swift.max(1, bufferSizes.max() ?? 1)))
        scratchFloats = steps.map(\.scratchFloats).max() ?? 0
        flopsPerSample = steps.reduce(0) { $0 + $1.flopsPerSample }
        mixesSamples = steps.contains { $0.mixesSamples }
        for step in steps { step.prepare() }
    }

    /// Gives every stored value a physical buffer, reusing a buffer once the last step that
    /// reads its value has run. Bordered channels-last buffers are only shared between values of
    /// identical geometry, so their zero borders (never written) stay valid; a step's output
    /// never shares a buffer with its inputs. Returns the floats per sample of each buffer.
    private static func assignBuffers(_ steps: [PlanStep], _ values: [PlanValue]) -> [Int] {
        var lastUse = [Int](repeating: -1, count: values.count)
        for (i, step) in steps.enumerated() {
            for v in step.inputs { lastUse[v.storage.id] = i }
        }
        var sizes: [Int] = []
        var freePlain: [Int] = []
        var freeBordered: [String: [Int]] = [:]
        func key(_ v: PlanValue) -> String? {
            guard case .channelsLast = v.layout, v.padding != .zero else { return nil }
            let g = v.image
            return "\(g.c)×\(g.h)×\(g.w)+\(g.ph)×\(g.pw)"
        }
        func release(_ v: PlanValue) {
            guard !v.isInput, !v.isOutput, v.buffer >= 0 else { return }
            if let k = key(v) { freeBordered[k, default: []].append(v.buffer) } else { freePlain.append(v.buffer) }
        }
        for (i, step) in steps.enumerated() {
            let out = step.output
            if !out.isOutput {
                let need = out.stride
                if let k = key(out), let b = freeBordered[k]?.popLast() {
                    out.buffer = b
                } else if key(out) == nil, !freePlain.isEmpty {
                    // The largest free buffer, so small ones are not grown needlessly.
                    let best = freePlain.indices.max { sizes[freePlain[$0]] < sizes[freePlain[$1]] }!
                    out.buffer = freePlain.remove(at: best)
                } else {
                    out.buffer = sizes.count
                    sizes.append(0)
                }
                sizes[out.buffer] = Swift.max(sizes[out.buffer], need)
            }
            var released = Set<Int>()
            for v in step.inputs.map(\.storage) where lastUse[v.id] == i && released.insert(v.id).inserted {
                release(v)
            }
            if lastUse[out.id] < i { release(out) }
        }
        return sizes
    }
}

/// Per-worker memory of a plan: the physical buffers sized for `capacity` samples, and scratch.
/// Allocated zeroed (bordered images rely on it) and only ever grown, so a warmed plan does not
/// allocate.
final class PlanWorkspace {
    let sizes: [Int]
    private(set) var capacity = 0
    private(set) var buffers: [UnsafeMutablePointer<Float>] = []
    let scratch: UnsafeMutablePointer<Float>
    private let scratchCount: Int
    /// The error a worker hit, rethrown by the caller.
    var error: (any Error)?

    init(_ program: PlanProgram) {
        sizes = program.bufferSizes
        scratchCount = Swift.max(1, program.scratchFloats)
        scratch = PackedKernel.aligned(scratchCount)
        scratch.initialize(repeating: 0, count: scratchCount)
    }

    func reserve(_ samples: Int) {
        guard samples > capacity else { return }
        for b in buffers { UnsafeMutableRawPointer(b).deallocate() }
        buffers = sizes.map { size in
            let count = Swift.max(1, size * samples)
            let p = PackedKernel.aligned(count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        capacity = samples
    }

    deinit {
        for b in buffers { UnsafeMutableRawPointer(b).deallocate() }
        UnsafeMutableRawPointer(scratch).deallocate()
    }
}
