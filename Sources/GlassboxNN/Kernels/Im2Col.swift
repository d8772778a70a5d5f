/// The lowering that turns a 2-D convolution of one image into a matrix product, and its adjoint.
///
/// For an image `x[C, H, W]` and a window (kernel `kh×kw`, output `Ho×Wo`), the column matrix
/// has `C·kh·kw` rows and `Ho·Wo` columns:
/// `cols[(c·kh + i)·kw + j, oh·Wo + ow] = x[c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]`
/// (zero where that position falls in the padding). A convolution with weight `W[O, C·kh·kw]`
/// is then `y = W · cols`, and `col2im` scatters a column-shaped gradient back onto the image.
enum Im2Col {
    /// Writes the in-bounds entries of `cols` for one image. Entries in the padding are not
    /// written: `cols` must have been zeroed once, and since which entries are padding depends
    /// only on the geometry, a scratch buffer keeps its zeros across images of the same shape.
    ///
    /// Cost: one copy of `C·kh·kw·Ho·Wo` floats at most; rows are contiguous runs (memcpy) when
    /// the horizontal stride is 1.
    static func im2col(_ x: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                       window k: Window2D, outHeight: Int, outWidth: Int,
                       into cols: UnsafeMutablePointer<Float>) {
        let plane = height * width, outPlane = outHeight * outWidth
        for i in 0..<k.kh {
            let rows = Window2D.validRange(offset: i, stride: k.sh, pad: k.ph, dilation: k.dh,
                                           inputExtent: height, outputExtent: outHeight)
            for j in 0..<k.kw {
                let cs = Window2D.validRange(offset: j, stride: k.sw, pad: k.pw, dilation: k.dw,
                                             inputExtent: width, outputExtent: outWidth)
                let run = cs.hi - cs.lo
                if run <= 0 || rows.hi <= rows.lo { continue }
                for c in 0..<channels {
                    let src = x + c * plane + cs.base
                    let dst = cols + ((c * k.kh + i) * k.kw + j) * outPlane
                    for oh in rows.lo..<rows.hi {
                        let s = src + (oh * k.sh + rows.base) * width
                        let d = dst + oh * outWidth
                        if k.sw == 1 {
                            (d + cs.lo).update(from: s + cs.lo, count: run)
                        } else {
                            for ow in cs.lo..<cs.hi { d[ow] = s[ow * k.sw] }
                        }
                    }
                }
            }
        }
    }

    /// Adds the in-bounds entries of `cols` back onto the image gradient `dx[C, H, W]`: the
    /// adjoint of ``im2col(_:channels:height:width:window:outHeight:outWidth:into:)``
    /// (entries in the padding are dropped).
    ///
    /// Cost: `C·kh·kw·Ho·Wo` additions at most.
    static func col2im(_ cols: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                       window k: Window2D, outHeight: Int, outWidth: Int,
                       addingInto dx: UnsafeMutablePointer<Float>) {
        let plane = height * width, outPlane = outHeight * outWidth
        for c in 0..<channels {
            for i in 0..<k.kh {
                let rows = Window2D.validRange(offset: i, stride: k.sh, pad: k.ph, dilation: k.dh,
                                               inputExtent: height, outputExtent: outHeight)
                for j in 0..<k.kw {
                    let cs = Window2D.validRange(offset: j, stride: k.sw, pad: k.pw, dilation: k.dw,
                                                 inputExtent: width, outputExtent: outWidth)
                    if cs.hi <= cs.lo || rows.hi <= rows.lo { continue }
                    let dst = dx + c * plane + cs.base
                    let src = cols + ((c * k.kh + i) * k.kw + j) * outPlane
                    for oh in rows.lo..<rows.hi {
                        let d = dst + (oh * k.sh + rows.base) * width
                        let s = src + oh * outWidth
                        if k.sw == 1 {
                            for ow in cs.lo..<cs.hi { d[ow] += s[ow] }
                        } else {
                            for ow in cs.lo..<cs.hi { d[ow * k.sw] += s[ow] }
                        }
                    }
                }
            }
        }
    }
}
