import CreditsCore
import CreditsStore
import Foundation

/// What one column of an uploaded file holds.
public enum ColumnUse: String, Sendable, CaseIterable {
    case name
    case firstName = "first_name"
    /// Joined to the first name when the file has no full-name column.
    case lastName = "last_name"
    case phone
    case email
    /// Group names, separated by commas, semicolons or `|`.
    case groups
    /// A custom merge field, named by the choice.
    case field
    case ignore

    /// The use as the mapping page names it.
    public var label: String {
        switch self {
        case .name: "Name"
        case .firstName: "First name"
        case .lastName: "Last name"
        case .phone: "Mobile number"
        case .email: "Email"
        case .groups: "Groups"
        case .field: "Merge field"
        case .ignore: "Ignore"
        }
    }

    /// Header names (lowercased, letters and digits only) that say what a column holds.
    static let headerWords: [(ColumnUse, Set<String>)] = [
        (
            .name,
            [
                "name", "fullname", "contactname", "contact", "displayname", "parentname", "guardianname",
                "membername", "clientname", "customername",
            ]
        ),
        (.firstName, ["firstname", "first", "givenname", "forename", "fname"]),
        (.lastName, ["lastname", "last", "surname", "familyname", "lname"]),
        (
            .phone,
            [
                "phone", "mobile", "cell", "cellphone", "mobilephone", "phonenumber", "mobilenumber", "cellnumber",
                "tel", "telephone", "sms", "number", "mobileno", "phoneno",
            ]
        ),
        (.email, ["email", "emailaddress", "mail"]),
        (.groups, ["group", "groups", "class", "classes", "team", "teams", "tag", "tags", "list", "lists"]),
    ]

    /// The use a header name suggests, or ignore.
    static func guess(_ header: String) -> ColumnUse {
        let word = String(header.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) })
        if let (use, _) = headerWords.first(where: { $0.1.contains(word) }) { return use }
        if word.contains("phone") || word.contains("mobile") { return .phone }
        if word.contains("email") { return .email }
        if word.contains("first") && word.contains("name") { return .firstName }
        if word.contains("surname") || (word.contains("last") && word.contains("name")) { return .lastName }
        return .ignore
    }
}

/// One column's use, with the merge field's name when it is one.
public struct ColumnChoice: Sendable, Equatable {
    public var use: ColumnUse
    public var fieldName: String?

    public init(_ use: ColumnUse, fieldName: String? = nil) {
        self.use = use
        self.fieldName = fieldName
    }

    /// Each column's likely use from the header (each use but merge field and ignore at most once),
    /// with a merge field name made from the header in case the column becomes one.
    public static func guesses(_ header: [String]) -> [ColumnChoice] {
        var taken = Set<ColumnUse>()
        return header.enumerated().map { index, name in
            var use = ColumnUse.guess(name)
            if use != .ignore, !taken.insert(use).inserted { use = .ignore }
            return ColumnChoice(use, fieldName: fieldName(name, index: index))
        }
    }

    /// "Class name" becomes class_name: letters, digits and `_`, at most 64.
    static func fieldName(_ header: String, index: Int) -> String {
        var slug = ""
        for character in header.lowercased() {
            if character.isLetter || character.isNumber {
                slug.append(character)
            } else if !slug.isEmpty, slug.last != "_" {
                slug.append("_")
            }
        }
        while slug.hasSuffix("_") { slug.removeLast() }
        let name = String(slug.unicodeScalars.prefix(64))
        return name.isEmpty ? "field_\(index + 1)" : name
    }
}

/// How an uploaded file becomes contacts: each column's use, the groups everyone joins, and the
/// consent collected with the list.
public struct FileImportInput: Sendable {
    public var columns: [ColumnChoice]
    public var groups: [String]
    public var consent: ConsentState?
    /// How they agreed; required when opting in.
    public var consentBasis: String?

    public init(columns: [ColumnChoice], groups: [String], consent: ConsentState?, consentBasis: String?) {
        self.columns = columns
        self.groups = groups
        self.consent = consent
        self.consentBasis = consentBasis
    }
}

/// A checked mapping of a file's columns to contact fields.
struct ImportMapping: Sendable {
    let columns: [ColumnChoice]
    let columnCount: Int

    /// Refuses a mapping without a name or phone column, or with a use given twice.
    init(_ choices: [ColumnChoice], columnCount: Int) throws {
        var columns = Array(choices.prefix(columnCount))
        columns += Array(repeating: ColumnChoice(.ignore), count: columnCount - columns.count)
        for use in [ColumnUse.name, .firstName, .lastName, .phone, .email]
        where columns.filter({ $0.use == use }).count > 1 {
            throw ContactFileError.columnUsedTwice(use.label.lowercased())
        }
        guard columns.contains(where: { $0.use == .name || $0.use == .firstName }) else {
            throw ContactFileError.nameColumnMissing
        }
        guard columns.contains(where: { $0.use == .phone }) else { throw ContactFileError.phoneColumnMissing }
        var names = Set<String>()
        for choice in columns where choice.use == .field {
            let name = (choice.fieldName ?? "").trimmingCharacters(in: .whitespaces)
            _ = try ContactRules.fields([name: ""])
            guard names.insert(name).inserted else { throw ContactFileError.columnUsedTwice("merge field \(name)") }
        }
        self.columns = columns
        self.columnCount = columnCount
    }

    /// The first reason a mapping would be refused, for the preview (nil when it is fine).
    static func problem(_ choices: [ColumnChoice], columnCount: Int) -> String? {
        do {
            _ = try ImportMapping(choices, columnCount: columnCount)
            return nil
        } catch let error as any DomainError {
            return error.message
        } catch {
            return "This mapping cannot be used."
        }
    }

    /// A record as the contact it describes, joining the groups chosen for everyone.
    func entry(_ record: ContactFile.Record, groups: [String]) -> ImportEntry {
        func cell(_ use: ColumnUse) -> String? {
            guard let index = columns.firstIndex(where: { $0.use == use }), index < record.cells.count else {
                return nil
            }
            return record.cells[index]
        }
        func filled(_ use: ColumnUse) -> String? {
            guard let text = cell(use)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        let first = filled(.firstName)
        let name = cell(.name) ?? [first, filled(.lastName)].compactMap { $0 }.joined(separator: " ")
        var fields: [String: String] = [:]
        var cellGroups: [String] = []
        for (index, choice) in columns.enumerated() where index < record.cells.count {
            let text = record.cells[index].trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            switch choice.use {
            case .field: fields[(choice.fieldName ?? "").trimmingCharacters(in: .whitespaces)] = text
            case .groups:
                cellGroups += text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == "|" }).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }.filter { !$0.isEmpty }
            default: break
            }
        }
        let input = NewContactInput(
            name: name,
            firstName: first,
            phone: cell(.phone) ?? "",
            email: filled(.email),
            groups: cellGroups + groups,
            fields: fields
        )
        let extra = record.cells.dropFirst(columnCount)
        let refusal =
            extra.contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            ? ContactFileError.extraCells(cells: record.cells.count, columns: columnCount) : nil
        return ImportEntry(input: input, refusal: refusal, line: record.line, cells: record.cells)
    }
}

/// One row to import: the contact as given, or why the row could not be read as one; with the
/// file line it starts on and its cells, when it came from a file.
struct ImportEntry: Sendable {
    var input: NewContactInput
    var refusal: ContactFileError? = nil
    var line: Int? = nil
    var cells: [String]? = nil
}
