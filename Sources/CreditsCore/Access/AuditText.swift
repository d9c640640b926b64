/// A figure an audit sentence leaves open until the ledger has applied its operation.
public enum LedgerFigure: Sendable, Equatable {
    /// The credits the operation moved.
    case amount
    /// The credits the operation moved with a noun, singular for exactly one: `.counted("credit")`
    /// reads "1 credit" or "2.5 credits".
    case counted(String)
    /// The pool's or wallet's posted balance after it.
    case balanceAfter
    /// The pool's or wallet's available credits after it.
    case availableAfter
}

/// The sentence of an audit entry: text, and ledger figures filled in once the operation applied.
///
/// Built by interpolation, `"SMS message to \(to). \(.counted("credit")) used."`: a value
/// interpolated as text is text for good, so a name or reason that happens to contain
/// `{{amount}}` stays as typed and is never read back as a placeholder.
public struct AuditText: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// One piece of the sentence.
    public enum Part: Sendable, Equatable {
        case text(String)
        case figure(LedgerFigure)
    }

    /// The pieces in order.
    public private(set) var parts: [Part]

    /// A sentence of plain text.
    public init(_ text: String) { parts = text.isEmpty ? [] : [.text(text)] }

    public init(stringLiteral value: String) { self.init(value) }

    public init(stringInterpolation: Interpolation) { parts = stringInterpolation.parts }

    /// Collects the pieces of an interpolated sentence.
    public struct Interpolation: StringInterpolationProtocol {
        var parts: [Part] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) { append(literal) }

        /// A value shown as text.
        public mutating func appendInterpolation(_ value: some CustomStringConvertible) { append(value.description) }

        /// A figure the ledger fills in.
        public mutating func appendInterpolation(_ figure: LedgerFigure) { parts.append(.figure(figure)) }

        mutating func append(_ text: String) {
            guard !text.isEmpty else { return }
            if case .text(let previous) = parts.last {
                parts[parts.count - 1] = .text(previous + text)
            } else {
                parts.append(.text(text))
            }
        }
    }

    /// The sentence with each figure written by `value` (an unknown figure as nothing).
    public func rendered(_ value: (LedgerFigure) -> String?) -> String {
        parts.map { part in
            switch part {
            case .text(let text): text
            case .figure(let figure): value(figure) ?? ""
            }
        }.joined()
    }

    /// The sentence as stored; figures not yet filled in are left out.
    public var description: String { rendered { _ in nil } }

    /// The sentence followed by more of it.
    public static func + (lhs: AuditText, rhs: AuditText) -> AuditText {
        var joined = lhs
        for part in rhs.parts {
            switch part {
            case .text(let text):
                var interpolation = Interpolation(literalCapacity: 0, interpolationCount: 0)
                interpolation.parts = joined.parts
                interpolation.append(text)
                joined.parts = interpolation.parts
            case .figure:
                joined.parts.append(part)
            }
        }
        return joined
    }
}
