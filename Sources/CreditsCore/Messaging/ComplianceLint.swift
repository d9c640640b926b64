/// Carrier-compliance advice for a message (DESIGN §3, seed "Best Practices for Compliance").
///
/// Every rule returns warnings, never errors: staff stay in charge of what they send.
public struct ComplianceLint: Sendable {
    /// The business name a header should carry; nil when unknown (then only an empty header warns).
    public var businessName: String?
    /// Whether header and footer are checked (not for a bare text with no organisation context).
    public var checksParts: Bool
    /// Skip characters smart encoding replaces (when it is on they never reach the carrier).
    public var ignoresReplaceable: Bool

    /// Warnings beyond this many per rule are summarised in one, so a long text stays readable.
    static let warningsPerRuleMax = 10

    /// Domains of URL shorteners that carriers commonly block.
    public static let shortenerDomains = [
        "bit.ly", "goo.gl", "tinyurl.com", "t.co", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly",
        "shorturl.at", "tiny.cc", "rb.gy", "bl.ink", "t.ly", "v.gd", "s.id", "lnkd.in", "short.io", "qr.ae", "trib.al",
    ]

    /// Phrases the seed calls aggressive, and close relatives.
    public static let aggressivePhrases = [
        "you must", "you are required to", "you're required to", "you have to", "failure to comply",
        "final notice", "act now", "last warning",
    ]

    /// Words that make an opt-out instruction.
    static let optOutInstructionWords = ["stop", "opt out", "opt-out", "optout", "unsubscribe"]

    /// A lint for an organisation's messages.
    public init(businessName: String? = nil, checksParts: Bool = true, ignoresReplaceable: Bool = false) {
        self.businessName = businessName
        self.checksParts = checksParts
        self.ignoresReplaceable = ignoresReplaceable
    }

    /// Lints the parts of a message. `costNote` explains the credit cost of UCS-2, if any.
    public func warnings(header: String, body: String, footer: String, costNote: String?) -> [LintWarning] {
        var warnings: [LintWarning] = []
        if checksParts {
            warnings += headerWarnings(header: header, body: body)
            warnings += footerWarnings(footer: footer, body: body)
        }
        for (part, text) in [(TextPart.header, header), (.body, body), (.footer, footer)] where !text.isEmpty {
            warnings += contentWarnings(text, part: part, costNote: costNote)
        }
        return warnings
    }

    func headerWarnings(header: String, body: String) -> [LintWarning] {
        if header.trimmingWhitespace().isEmpty {
            return [
                LintWarning(
                    code: .headerMissingBusinessName,
                    message: "Identify your business in every message: add a message header with your business name.",
                    part: .header
                )
            ]
        }
        if let name = businessName?.trimmingWhitespace(), !name.isEmpty,
            !header.lowercased().contains(name.lowercased())
        {
            return [
                LintWarning(
                    code: .headerMissingBusinessName,
                    message:
                        "The message header does not name your business (\(name)); carriers may block messages that do not identify the sender.",
                    part: .header,
                    range: TextRange(start: 0, end: MessageBody.length(of: header))
                )
            ]
        }
        return []
    }

    func footerWarnings(footer: String, body: String) -> [LintWarning] {
        if ComplianceLint.hasOptOutInstruction(footer) || ComplianceLint.hasOptOutInstruction(body) { return [] }
        return [
            LintWarning(
                code: .footerMissingOptOut,
                message:
                    "Provide clear opt-out instructions, for example a footer such as \u{201C}To opt out, reply STOP.\u{201D}",
                part: .footer
            )
        ]
    }

    /// True when the text tells people how to opt out.
    public static func hasOptOutInstruction(_ text: String) -> Bool {
        if let found = optOutScanner.scan(text, limit: 1) { return found.contains { !$0.isEmpty } }
        let lower = text.lowercased()
        return optOutInstructionWords.contains { TextSearch.wholeWordRanges(of: $0, in: lower).first != nil }
    }

    static let optOutScanner = PhraseScanner(optOutInstructionWords.map { ($0, .wholeWord) })

    /// The shortener domains, then the aggressive phrases, in one scanner.
    static let contentScanner = PhraseScanner(
        shortenerDomains.map { ($0, .domain) } + aggressivePhrases.map { ($0, .wholeWord) }
    )

    /// Where each shortener domain and aggressive phrase occurs (at most `warningsPerRuleMax` each),
    /// in the order of `contentScanner`'s patterns.
    static func contentMatches(_ text: String) -> [[TextRange]] {
        if let found = contentScanner.scan(text, limit: warningsPerRuleMax) { return found }
        return contentMatchesBySearch(text)
    }

    /// The same, one search per pattern over the lowercased text: the scanner's fallback and reference.
    static func contentMatchesBySearch(_ text: String) -> [[TextRange]] {
        let lower = text.lowercased()
        return shortenerDomains.map { Array(TextSearch.domainRanges(of: $0, in: lower).prefix(warningsPerRuleMax)) }
            + aggressivePhrases.map {
                Array(TextSearch.wholeWordRanges(of: $0, in: lower).prefix(warningsPerRuleMax))
            }
    }

    func contentWarnings(_ text: String, part: TextPart, costNote: String?) -> [LintWarning] {
        var warnings: [LintWarning] = []
        let found = ComplianceLint.contentMatches(text)
        for (index, domain) in ComplianceLint.shortenerDomains.enumerated() {
            for range in found[index] {
                warnings.append(
                    LintWarning(
                        code: .urlShortener,
                        message:
                            "Do not use URL shorteners such as \(domain): many carriers block them. Use your full link.",
                        part: part,
                        range: range
                    )
                )
            }
        }
        for (index, phrase) in ComplianceLint.aggressivePhrases.enumerated() {
            for range in found[ComplianceLint.shortenerDomains.count + index] {
                warnings.append(
                    LintWarning(
                        code: .aggressiveLanguage,
                        message:
                            "\u{201C}\(phrase)\u{201D} can read as aggressive; try \u{201C}we suggest\u{201D} or \u{201C}it is recommended\u{201D}.",
                        part: part,
                        range: range
                    )
                )
            }
        }
        if let warning = capitalsWarning(text, part: part) { warnings.append(warning) }
        warnings += characterWarnings(text, part: part, costNote: costNote)
        return warnings
    }

    /// Heavy capitals: at least 12 letters and half or more of them upper case.
    func capitalsWarning(_ text: String, part: TextPart) -> LintWarning? {
        var letters = 0
        var upper = 0
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let isUpper = value &- 0x41 < 26
                letters &+= (isUpper || value &- 0x61 < 26) ? 1 : 0
                upper &+= isUpper ? 1 : 0
            } else if scalar.properties.isUppercase {
                letters += 1
                upper += 1
            } else if scalar.properties.isLowercase {
                letters += 1
            }
        }
        guard letters >= 12, upper * 2 >= letters else { return nil }
        return LintWarning(
            code: .excessiveCapitals,
            message:
                "\(upper) of \(letters) letters are capitals; messages that overuse capitals are often reported as spam.",
            part: part,
            range: TextRange(start: 0, end: MessageBody.length(of: text))
        )
    }
}
