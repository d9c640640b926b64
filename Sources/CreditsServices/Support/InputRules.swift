import CreditsCore
import Foundation

/// Checks every input shares: names, emails, passwords and amounts.
public enum InputRules {
    /// A trimmed name of 1–`limit` characters without control characters or text-direction
    /// overrides. Characters are Unicode scalars, as the database's length checks count them (an
    /// emoji family is several), so a name that passes here always fits its column.
    public static func name(_ value: String, field: String = "name", limit: Int = 200) throws(InputError) -> String {
        // Control characters are refused wherever they stand: a tab or line feed at either end is
        // not a space to trim, as the published pattern says.
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .controlCharacters(field: field)
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .empty(field: field) }
        guard trimmed.unicodeScalars.count <= limit else { throw .tooLong(field: field, limit: limit) }
        guard !trimmed.unicodeScalars.contains(where: directionOverrides.contains) else {
            throw .directionOverride(field: field)
        }
        return trimmed
    }

    /// Characters that reorder the text around them (U+202A–202E, U+2066–2069): a name holding
    /// one can show as something else than it is.
    static let directionOverrides = Set(
        (0x202A...0x202E).compactMap(Unicode.Scalar.init) + (0x2066...0x2069).compactMap(Unicode.Scalar.init)
    )

    /// A lower-cased email address.
    public static func email(_ value: String, field: String = "email") throws(InputError) -> String {
        let email = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.unicodeScalars.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."),
            !parts[1].hasSuffix("."), !email.contains(where: \.isWhitespace)
        else {
            throw .notAnEmail(field: field, value: value)
        }
        return email
    }

    /// A password of 10 characters to 72 bytes (what bcrypt reads).
    public static func password(_ value: String, field: String = "password") throws(InputError) -> String {
        guard value.count >= 10 else { throw .passwordTooShort(field: field) }
        guard value.utf8.count <= 72 else { throw .passwordTooLong(field: field) }
        return value
    }

    /// Credits of zero or more.
    public static func credits(_ value: Credits, field: String) throws(InputError) -> Credits {
        guard value >= .zero else { throw .negative(field: field) }
        return value
    }
}
