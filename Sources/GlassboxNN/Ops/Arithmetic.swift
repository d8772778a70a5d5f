/// Elementwise arithmetic with NumPy broadcasting.
///
/// Backward: the gradient of each operand is the upstream gradient times the partial derivative,
/// summed over the axes along which that operand was broadcast (``Broadcast/reduce(_:to:)``).
/// Cost: one pass over the broadcast shape forward, one or two backward.

/// `a + b`.
public func add(_ a: Variable, _ b: Variable) throws -> Variable {
    let value = try Broadcast.apply(a.value, b.value, +)
    let sa = a.shape, sb = b.shape
    return Variable.result(value, inputs: [a, b]) { g in
        a.accumulate(Broadcast.reduce(g, to: sa))
        b.accumulate(Broadcast.reduce(g, to: sb))
    }
}

/// `a − b`.
public func sub(_ a: Variable, _ b: Variable) throws -> Variable {
    let value = try Broadcast.apply(a.value, b.value, -)
    let sa = a.shape, sb = b.shape
    return Variable.result(value, inputs: [a, b]) { g in
        a.accumulate(Broadcast.reduce(g, to: sa))
        if b.requiresGrad { b.accumulate(Broadcast.reduce(g.map { -$0 }, to: sb)) }
    }
}

/// `a ⊙ b` (elementwise product).
public func mul(_ a: Variable, _ b: Variable) throws -> Variable {
    let av = a.value, bv = b.value
    let value = try Broadcast.apply(av, bv, *)
    return Variable.result(value, inputs: [a, b]) { g in
        if a.requiresGrad { a.accumulate(Broadcast.reduce(try! Broadcast.apply(g, bv, *), to: av.shape)) }
        if b.requiresGrad { b.accumulate(Broadcast.reduce(try! Broadcast.apply(g, av, *), to: bv.shape)) }
    }
}

/// `a ⊘ b` (elementwise quotient). Division by zero follows IEEE rules (±Inf/NaN).
public func div(_ a: Variable, _ b: Variable) throws -> Variable {
    let av = a.value, bv = b.value
    let value = try Broadcast.apply(av, bv, /)
    return Variable.result(value, inputs: [a, b]) { g in
        if a.requiresGrad { a.accumulate(Broadcast.reduce(try! Broadcast.apply(g, bv, /), to: av.shape)) }
        if b.requiresGrad {
            // ∂(a/b)/∂b = −a/b² = −value/b
            let gb = try! Broadcast.apply(try! Broadcast.apply(g, value, *), bv) { -$0 / $1 }
            b.accumulate(Broadcast.reduce(gb, to: bv.shape))
        }
    }
}

/// `a · s` for a constant scalar `s`.
public func scale(_ a: Variable, _ s: Float) -> Variable {
    Variable.result(a.value.map { $0 * s }, inputs: [a]) { g in a.accumulate(g.map { $0 * s }) }
}

/// `a + s` for a constant scalar `s`.
public func shift(_ a: Variable, _ s: Float) -> Variable {
    Variable.result(a.value.map { $0 + s }, inputs: [a]) { g in a.accumulate(g) }
}

/// `−a`.
public func negate(_ a: Variable) -> Variable { scale(a, -1) }

extension Variable {
    /// Broadcast sum, ``add(_:_:)``.
    public static func + (a: Variable, b: Variable) throws -> Variable { try add(a, b) }
    /// Broadcast difference, ``sub(_:_:)``.
    public static func - (a: Variable, b: Variable) throws -> Variable { try sub(a, b) }
    /// Broadcast product, ``mul(_:_:)``.
    public static func * (a: Variable, b: Variable) throws -> Variable { try mul(a, b) }
    /// Broadcast quotient, ``div(_:_:)``.
    public static func / (a: Variable, b: Variable) throws -> Variable { try div(a, b) }
    /// Product with a scalar, ``scale(_:_:)``.
    public static func * (a: Variable, s: Float) -> Variable { scale(a, s) }
    /// Sum with a scalar, ``shift(_:_:)``.
    public static func + (a: Variable, s: Float) -> Variable { shift(a, s) }
    public static prefix func - (a: Variable) -> Variable { negate(a) }
}
