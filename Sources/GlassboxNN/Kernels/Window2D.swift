/// The sliding-window geometry shared by 2-D convolution and pooling: kernel extent, stride,
/// zero padding and dilation along height and width.
///
/// Output extent along an axis (PyTorch's formula, floor mode):
/// `out = (in + 2·pad − dilation·(kernel − 1) − 1) / stride + 1`.
public struct Window2D: Sendable, Equatable {
    /// Kernel height and width.
    public let kh: Int, kw: Int
    /// Strides along height and width.
    public let sh: Int, sw: Int
    /// Zero padding added on each side along height and width.
    public let ph: Int, pw: Int
    /// Dilation along height and width (1: contiguous window).
    public let dh: Int, dw: Int

    /// Validates the window; `op` names the operation in error messages.
    public init(kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int),
                op: String) throws {
        func pair(_ p: (Int, Int)) -> String { "\(p.0)×\(p.1)" }
        guard kernel.0 > 0, kernel.1 > 0 else {
            throw GlassboxError.invalidArgument("\(op): kernel size must be positive, got \(pair(kernel))")
        }
        guard stride.0 > 0, stride.1 > 0 else {
            throw GlassboxError.invalidArgument("\(op): stride must be positive, got \(pair(stride))")
        }
        guard padding.0 >= 0, padding.1 >= 0 else {
            throw GlassboxError.invalidArgument("\(op): padding must be non-negative, got \(pair(padding))")
        }
        guard dilation.0 > 0, dilation.1 > 0 else {
            throw GlassboxError.invalidArgument("\(op): dilation must be positive, got \(pair(dilation))")
        }
        (kh, kw) = kernel
        (sh, sw) = stride
        (ph, pw) = padding
        (dh, dw) = dilation
    }

    /// Height and width the kernel spans once dilated.
    public var effectiveKernel: (Int, Int) { (dh * (kh - 1) + 1, dw * (kw - 1) + 1) }

    /// Output height and width for an input of `height × width`; throws naming `inputShape` when
    /// the dilated kernel does not fit in the padded input.
    public func outputSize(height: Int, width: Int, inputShape: [Int], op: String) throws -> (Int, Int) {
        let (ekh, ekw) = effectiveKernel
        let paddedH = height + 2 * ph, paddedW = width + 2 * pw
        guard ekh <= paddedH, ekw <= paddedW else {
            throw GlassboxError.shapeMismatch(
                "\(op): kernel \(kh)×\(kw) (dilation \(dh)×\(dw), spanning \(ekh)×\(ekw)) is larger than the padded input "
                + "\(paddedH)×\(paddedW) (input \(inputShape), padding \(ph)×\(pw))")
        }
        return ((paddedH - ekh) / sh + 1, (paddedW - ekw) / sw + 1)
    }

    /// Pooling's extra rule (PyTorch's): padding at most half the kernel, so every window holds
    /// at least one real input element.
    func checkPoolingPadding(op: String) throws {
        guard ph <= kh / 2, pw <= kw / 2 else {
            throw GlassboxError.invalidArgument(
                "\(op): padding \(ph)×\(pw) must be at most half the kernel \(kh)×\(kw)")
        }
    }

    /// For kernel offset `j` along an axis: the output positions `lo..<hi` whose input
    /// coordinate `o·stride − pad + j·dilation` lies inside `0..<inputExtent`, and that
    /// coordinate's value at `o = 0` (`base`), so the input index is `o·stride + base`.
    ///
    /// Why: hoisting the bounds out of the inner loops leaves branch-free copies over `lo..<hi`
    /// (a plain memcpy when the stride is 1).
    @inline(__always)
    static func validRange(offset j: Int, stride s: Int, pad p: Int, dilation d: Int,
                           inputExtent n: Int, outputExtent out: Int) -> (lo: Int, hi: Int, base: Int) {
        let base = j * d - p
        // Smallest o with o·s + base ≥ 0, and one past the largest with o·s + base ≤ n − 1.
        let lo = base >= 0 ? 0 : (-base + s - 1) / s
        let hi = n - 1 - base < 0 ? 0 : (n - 1 - base) / s + 1
        let clampedLo = Swift.min(lo, out), clampedHi = Swift.min(hi, out)
        return (clampedLo, Swift.max(clampedLo, clampedHi), base)
    }
}
