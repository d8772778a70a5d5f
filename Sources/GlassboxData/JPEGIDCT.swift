/// libjpeg's ISLOW inverse DCT (jidctint.c), reproduced bit for bit: the Loeffler–Ligtenberg–
/// Moschytz 8-point factorisation with 13-bit fixed-point constants, a column pass that keeps
/// 2 extra bits (PASS1_BITS), a row pass that descales by 2^(13+2+3), and libjpeg's range-limit
/// table (values wrap through `& 1023` before clamping, which matters only for corrupt data).
/// Dequantisation happens on the way in. Cost: ~ 2 × 8 × (12 multiplies + 32 adds) per block.
enum JPEGIDCT {
    private static let constBits = 13, pass1Bits = 2
    private static let f0_298631336 = 2446, f0_390180644 = 3196, f0_541196100 = 4433, f0_765366865 = 6270
    private static let f0_899976223 = 7373, f1_175875602 = 9633, f1_501321110 = 12299, f1_847759065 = 15137
    private static let f1_961570560 = 16069, f2_053119869 = 16819, f2_562915447 = 20995, f3_072711026 = 25172

    /// libjpeg's post-IDCT range limit: x + 128 clamped, after masking to 10 bits.
    @inline(__always) private static func limit(_ x: Int) -> UInt8 {
        let i = x & 1023
        return i < 128 ? UInt8(i + 128) : i < 512 ? 255 : i < 896 ? 0 : UInt8(i - 896)
    }

    @inline(__always) private static func descale(_ x: Int, _ n: Int) -> Int { (x + (1 << (n - 1))) >> n }

    /// One 8×8 block of quantised coefficients (natural order) → samples at `out` (row stride `stride`).
    static func islow(_ coef: UnsafePointer<Int16>, _ quant: [Int], _ out: UnsafeMutablePointer<UInt8>, _ stride: Int) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { ws in
            islow(coef, quant, out, stride, ws.baseAddress!)
        }
    }

    private static func islow(_ coef: UnsafePointer<Int16>, _ quant: [Int], _ out: UnsafeMutablePointer<UInt8>, _ stride: Int,
                              _ ws: UnsafeMutablePointer<Int>) {
        for col in 0..<8 {
            func q(_ row: Int) -> Int { Int(coef[row * 8 + col]) * quant[row * 8 + col] }
            if coef[8 + col] == 0 && coef[16 + col] == 0 && coef[24 + col] == 0 && coef[32 + col] == 0
                && coef[40 + col] == 0 && coef[48 + col] == 0 && coef[56 + col] == 0 {
                let dc = q(0) << pass1Bits
                for row in 0..<8 { ws[row * 8 + col] = dc }
                continue
            }
            var z2 = q(2), z3 = q(6)
            let z1 = (z2 + z3) * f0_541196100
            var tmp2 = z1 + z3 * -f1_847759065
            var tmp3 = z1 + z2 * f0_765366865
            z2 = q(0); z3 = q(4)
            var tmp0 = (z2 + z3) << constBits
            var tmp1 = (z2 - z3) << constBits
            let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
            tmp0 = q(7); tmp1 = q(5); tmp2 = q(3); tmp3 = q(1)
            (tmp0, tmp1, tmp2, tmp3) = odd(tmp0, tmp1, tmp2, tmp3)
            let n = constBits - pass1Bits
            ws[0 * 8 + col] = descale(tmp10 + tmp3, n); ws[7 * 8 + col] = descale(tmp10 - tmp3, n)
            ws[1 * 8 + col] = descale(tmp11 + tmp2, n); ws[6 * 8 + col] = descale(tmp11 - tmp2, n)
            ws[2 * 8 + col] = descale(tmp12 + tmp1, n); ws[5 * 8 + col] = descale(tmp12 - tmp1, n)
            ws[3 * 8 + col] = descale(tmp13 + tmp0, n); ws[4 * 8 + col] = descale(tmp13 - tmp0, n)
        }
        let n = constBits + pass1Bits + 3
        for row in 0..<8 {
            let w = row * 8
            let o = out + row * stride
            if ws[w + 1] == 0 && ws[w + 2] == 0 && ws[w + 3] == 0 && ws[w + 4] == 0 && ws[w + 5] == 0 && ws[w + 6] == 0 && ws[w + 7] == 0 {
                let v = limit(descale(ws[w], pass1Bits + 3))
                for x in 0..<8 { o[x] = v }
                continue
            }
            let z2 = ws[w + 2], z3 = ws[w + 6]
            let z1 = (z2 + z3) * f0_541196100
            var tmp2 = z1 + z3 * -f1_847759065
            var tmp3 = z1 + z2 * f0_765366865
            var tmp0 = (ws[w] + ws[w + 4]) << constBits
            var tmp1 = (ws[w] - ws[w + 4]) << constBits
            let tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2
            (tmp0, tmp1, tmp2, tmp3) = odd(ws[w + 7], ws[w + 5], ws[w + 3], ws[w + 1])
            o[0] = limit(descale(tmp10 + tmp3, n)); o[7] = limit(descale(tmp10 - tmp3, n))
            o[1] = limit(descale(tmp11 + tmp2, n)); o[6] = limit(descale(tmp11 - tmp2, n))
            o[2] = limit(descale(tmp12 + tmp1, n)); o[5] = limit(descale(tmp12 - tmp1, n))
            o[3] = limit(descale(tmp13 + tmp0, n)); o[4] = limit(descale(tmp13 - tmp0, n))
        }
    }

    /// The odd part (inputs 7, 5, 3, 1 → tmp0…tmp3), per libjpeg's figure 8.
    @inline(__always) private static func odd(_ i7: Int, _ i5: Int, _ i3: Int, _ i1: Int) -> (Int, Int, Int, Int) {
        var z1 = i7 + i1, z2 = i5 + i3, z3 = i7 + i3, z4 = i5 + i1
        let z5 = (z3 + z4) * f1_175875602
        var t0 = i7 * f0_298631336, t1 = i5 * f2_053119869, t2 = i3 * f3_072711026, t3 = i1 * f1_501321110
        z1 *= -f0_899976223; z2 *= -f2_562915447; z3 *= -f1_961570560; z4 *= -f0_390180644
        z3 += z5; z4 += z5
        t0 += z1 + z3; t1 += z2 + z4; t2 += z2 + z3; t3 += z1 + z4
        return (t0, t1, t2, t3)
    }
}
