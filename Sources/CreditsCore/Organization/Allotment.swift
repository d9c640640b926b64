/// The rule for staff monthly allotments (seed: "Credits per Month cannot be greater than 5244"):
/// the allotments of all staff together must fit in what the organisation has to assign.
public enum AllotmentRule {
    /// The most one staff member may be given per month, when `capacity` credits are available
    /// to assign and the other staff already have `othersTotal`.
    public static func maximum(capacity: Credits, othersTotal: Credits) -> Credits {
        max(.zero, capacity - othersTotal)
    }

    /// Checks a requested allotment.
    public static func check(_ requested: Credits, capacity: Credits, othersTotal: Credits) throws(AllotmentError) {
        guard requested >= .zero else { throw .negative }
        let limit = maximum(capacity: capacity, othersTotal: othersTotal)
        if requested > limit { throw .exceeds(maximum: limit) }
    }
}

/// Why an allotment was refused.
public enum AllotmentError: Error, Sendable, Equatable {
    case negative
    case exceeds(maximum: Credits)

    public var message: String {
        switch self {
        case .negative: "Credits per Month cannot be negative."
        case .exceeds(let maximum): "Credits per Month cannot be greater than \(maximum)."
        }
    }
}
