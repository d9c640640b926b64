/// Fills `{{name}}` merge fields with a recipient's values.
///
/// An unknown or empty field is an error for that recipient, never a silent blank, so a family
/// is not greeted with "Hi ,". Spaces inside the braces are allowed: `{{ first_name }}`.
public enum MergeFields {
    /// Longest merge-field name accepted.
    static let nameLengthMax = 64

    /// The names used in a template, in order of first use.
    public static func names(in template: String) throws(MessageError) -> [String] {
        try MergeTemplate(template).names()
    }

    /// Renders a template with the given values.
    public static func render(_ template: String, values: [String: String]) throws(MessageError) -> String {
        try MergeTemplate(template).render(values)
    }

    /// True when the template has no merge fields at all (the common case, rendered once).
    public static func hasFields(_ template: String) -> Bool { template.contains("{{") }

    /// Splits the template into text and fields, up to the first malformed field (kept as the
    /// last part, so rendering reports the problems in the order the template has them).
    static func parse(_ template: String) -> [MergeTemplate.Part] {
        guard hasFields(template) else { return [.text(template)] }
        var parts: [MergeTemplate.Part] = []
        var rest = template[...]
        var scalarOffset = 0
        while let open = rest.range(of: "{{") {
            parts.append(.text(String(rest[..<open.lowerBound])))
            scalarOffset += rest[..<open.lowerBound].unicodeScalars.count
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else {
                parts.append(.malformed(position: scalarOffset))
                return parts
            }
            let rawName = afterOpen[..<close.lowerBound]
            let name = rawName.trimmingWhitespace()
            guard !name.isEmpty, name.count <= nameLengthMax, !name.contains("{"),
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" })
            else {
                parts.append(.malformed(position: scalarOffset))
                return parts
            }
            parts.append(.field(name))
            scalarOffset += rest[open.lowerBound..<close.upperBound].unicodeScalars.count
            rest = afterOpen[close.upperBound...]
        }
        parts.append(.text(String(rest)))
        return parts
    }
}

/// A template read once and rendered for many recipients: a send to 100,000 contacts parses its
/// body once, not once per contact.
public struct MergeTemplate: Sendable {
    enum Part: Sendable {
        case text(String)
        case field(String)
        case malformed(position: Int)
    }

    let parts: [Part]

    /// Reads a template; a malformed field is reported when it is reached (`render`, `names`).
    public init(_ template: String) { parts = MergeFields.parse(template) }

    /// The names used, in order of first use.
    public func names() throws(MessageError) -> [String] {
        var names: [String] = []
        for part in parts {
            switch part {
            case .text: continue
            case .field(let name): if !names.contains(name) { names.append(name) }
            case .malformed(let position): throw .mergeFieldMalformed(position: position)
            }
        }
        return names
    }

    /// The text for one recipient. An unknown or empty field is an error, never a silent blank.
    public func render(_ values: [String: String]) throws(MessageError) -> String {
        if parts.count == 1, case .text(let text) = parts[0] { return text }
        var output = ""
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .field(let name):
                guard let value = values[name] else { throw .mergeFieldUnknown(name: name) }
                if value.allSatisfy(\.isWhitespace) { throw .mergeFieldEmpty(name: name) }
                output += value
            case .malformed(let position): throw .mergeFieldMalformed(position: position)
            }
        }
        return output
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)[...]
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
