import CreditsAdapters
import CreditsServices
import Foundation

/// A submitted portal form. Its fields are turned into the same JSON input the API takes, so a
/// page and `/v1` refuse bad input with one rule and one message.
public struct WebForm: Sendable {
    /// How one form field becomes a JSON value.
    enum Kind {
        /// Text as typed (an empty box means "empty").
        case text
        /// Text, left out when the box is empty.
        case optionalText
        /// A number; left out when empty, sent as text (and so refused by name) when it is not one.
        case number
        /// A checkbox: true when ticked. A hidden field of the same name before it (value "false")
        /// makes "unticked" false; a form without the field leaves the setting as it is.
        case bool
        /// Every non-empty value of a repeated field (checkboxes, a multiple select), as a list. Like
        /// `bool`, a hidden empty field of the same name makes "nothing ticked" an empty list; a form
        /// without the field leaves the setting as it is.
        case list
    }

    let pairs: [(String, String)]
    /// The files of a `multipart/form-data` form (an upload).
    let files: [File]

    init(pairs: [(String, String)], files: [File] = []) {
        self.pairs = pairs
        self.files = files
    }

    /// Reads `application/x-www-form-urlencoded` text.
    init(encoded text: String) { self.init(pairs: FormEncoding.pairs(text)) }

    /// The last value of a field, nil when absent.
    func value(_ name: String) -> String? { pairs.last { $0.0 == name }?.1 }

    /// The last value of a field with surrounding spaces removed, nil when absent or blank.
    func trimmed(_ name: String) -> String? {
        guard let text = value(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// The form's idempotency key (a hidden field made when the page was shown), so a form sent
    /// twice moves credits or money once. The same limit as the API's header.
    func idempotencyKey() throws -> String {
        guard let key = trimmed("idempotency_key"), IdempotencyKeys.isValid(key) else {
            throw APIError.idempotencyKeyRequired
        }
        return IdempotencyKeys.scoped("web-", key)
    }

    /// A box of phone numbers: one per line, or separated by commas or semicolons.
    func phoneList(_ name: String) -> [String] {
        (value(name) ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    /// Every non-empty value of a field.
    func values(_ name: String) -> [String] { pairs.filter { $0.0 == name && !$0.1.isEmpty }.map(\.1) }

    /// The JSON object these fields make; a dotted name (`sending_hours.start`) nests.
    func json(_ schema: [String: Kind]) -> JSONValue {
        var root: [String: JSONValue] = [:]
        for (name, kind) in schema {
            guard let value = jsonValue(name, kind) else { continue }
            root.setValue(value, at: name.split(separator: ".").map(String.init))
        }
        return .object(root)
    }

    func jsonValue(_ name: String, _ kind: Kind) -> JSONValue? {
        switch kind {
        case .text:
            return value(name).map(JSONValue.string)
        case .optionalText:
            return trimmed(name).map(JSONValue.string)
        case .number:
            guard let text = trimmed(name) else { return nil }
            if let whole = Int64(text) { return .integer(whole) }
            if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(text) {
                return .number(text, number)
            }
            return .string(text)
        case .bool:
            guard let text = value(name) else { return nil }
            return .bool(!["", "false", "0", "off"].contains(text))
        case .list:
            guard value(name) != nil else { return nil }
            return .array(values(name).map(JSONValue.string))
        }
    }

    /// Decodes the fields into an API input, with the API's checks and messages.
    func input<T: APIInput>(_ type: T.Type, _ schema: [String: Kind]) throws -> T {
        try JSONInput.decode(type, from: try JSONEncoder.api.encode(json(schema)))
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Sets a value at a path of keys, making objects along the way.
    mutating func setValue(_ value: JSONValue, at path: [String]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            self[first] = value
            return
        }
        var child: [String: JSONValue] = if case .object(let existing) = self[first] { existing } else { [:] }
        child.setValue(value, at: Array(path.dropFirst()))
        self[first] = .object(child)
    }
}
