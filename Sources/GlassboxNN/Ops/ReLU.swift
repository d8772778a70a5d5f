/// Rectified linear unit: `y = max(x, 0)`.
///
/// Backward: `dx = dy · [x > 0]` (the subgradient at 0 is taken as 0, as PyTorch does).
/// Cost: one pass each way.
public func relu(_ x: Variable) -> Variable {
    let y = x.value.map { $0 > 0 ? $0 : 0 }
    return Variable.result(y, inputs: [x]) { g in
        x.accumulate(g.zip(y) { gv, yv in yv > 0 ? gv : 0 })
    }
}
