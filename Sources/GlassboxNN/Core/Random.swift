import Foundation

/// Seeded pseudo-random numbers: every random choice in Glassbox flows from one of these.
///
/// xoshiro256** (Blackman & Vigna) seeded through SplitMix64. The conversions to floats and
/// normals below are written out rather than taken from the standard library, so a seed gives
/// the same numbers on every platform and Swift version.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(&sm); s1 = splitMix(&sm); s2 = splitMix(&sm); s3 = splitMix(&sm)
    }

    /// The next 64 random bits; the sequence is fixed by the seed.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// An independent generator derived from this one's next output (for per-worker streams).
    public mutating func split() -> SeededGenerator { SeededGenerator(seed: next()) }

    /// Uniform in [0, 1) with 24 random bits.
    @inlinable
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform in [lo, hi).
    @inlinable
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniformFloat() }

    /// Standard normal by the Box–Muller transform.
    public mutating func normal() -> Double {
        var u1 = uniformDouble()
        while u1 <= .leastNonzeroMagnitude { u1 = uniformDouble() }
        let u2 = uniformDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Uniform integer in `0..<n` without modulo bias (Lemire's method).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs n > 0")
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) }
        }
        return p
    }

    /// Shuffles `array` in place (Fisher–Yates with this generator).
    public mutating func shuffle<T>(_ array: inout [T]) {
        if array.count > 1 {
            for i in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(i, int(below: i + 1)) }
        }
    }
}

extension Tensor {
    /// Uniform in [lo, hi).
    public static func uniform(_ shape: [Int], _ lo: Float, _ hi: Float, using rng: inout SeededGenerator) -> Tensor {
        var t = Tensor.zeros(shape)
        for i in 0..<t.count { t.scalars[i] = rng.uniform(lo, hi) }
        return t
    }

    /// Normal with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout SeededGenerator) -> Tensor {
        var t = Tensor.zeros(shape)
        for i in 0..<t.count { t.scalars[i] = mean + std * Float(rng.normal()) }
        return t
    }
}
