/// Fills `{{name}}` merge fields with a recipient's values.
///
/// An unknown or empty field is an error for that recipient, never a silent blank, so a family
/// is not greeted with "Hi ,". Spaces inside the braces are allowed: `{{ first_name }}`.
public enum MergeFields {
    /// Longest merge-field name accepted.
    static let nameLengthMax = 64

    /// The names used in a template, in order of first use.
    public static func names(in template: String) throws(MessageError) -> [String] {
        var names: [String] = []
        _ = try scan(template) { name in
            if !names.contains(name) { names.append(name) }
            return ""
        }
        return names
    }

    /// Renders a template with the given values.
    public static func render(_ template: String, values: [String: String]) throws(MessageError) -> String {
        try scan(template) { (name: String) throws(MessageError) -> String in
            guard let value = values[name] else { throw .mergeFieldUnknown(name: name) }
            if value.allSatisfy(\.isWhitespace) { throw .mergeFieldEmpty(name: name) }
            return value
        }
    }

    /// True when the template has no merge fields at all (the common case, rendered once).
    public static func hasFields(_ template: String) -> Bool { template.contains("{{") }

    /// Walks the template, replacing each field with what `substitute` returns.
    static func scan(_ template: String, substitute: (String) throws(MessageError) -> String) throws(MessageError)
        -> String
    {
        guard hasFields(template) else { return template }
        var output = ""
        var rest = template[...]
        var scalarOffset = 0
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            scalarOffset += rest[..<open.lowerBound].unicodeScalars.count
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else { throw .mergeFieldMalformed(position: scalarOffset) }
            let rawName = afterOpen[..<close.lowerBound]
            let name = rawName.trimmingWhitespace()
            guard !name.isEmpty, name.count <= nameLengthMax, !name.contains("{"),
                name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" })
            else { throw .mergeFieldMalformed(position: scalarOffset) }
            output += try substitute(name)
            scalarOffset += rest[open.lowerBound..<close.upperBound].unicodeScalars.count
            rest = afterOpen[close.upperBound...]
        }
        output += rest
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
