/// Everything that decides what a text costs besides its words.
public struct EstimateOptions: Sendable, Equatable {
    /// How the text travels.
    public var channel: Channel
    /// Replace look-alike characters before counting (organisation setting, off by default).
    public var smartEncoding: Bool
    /// Header and footer around the body.
    public var composition: Composition
    /// The organisation's name, for the header check; nil when there is no organisation context.
    public var businessName: String?
    /// Whether to check header and footer at all (false for a bare text with no organisation).
    public var checksParts: Bool
    /// Prices per channel.
    public var prices: PriceList

    /// Options with the defaults of a bare estimate: SMS, no smart encoding, no header or footer.
    public init(
        channel: Channel = .sms,
        smartEncoding: Bool = false,
        composition: Composition = Composition(),
        businessName: String? = nil,
        checksParts: Bool? = nil,
        prices: PriceList = .standard
    ) {
        self.channel = channel
        self.smartEncoding = smartEncoding
        self.composition = composition
        self.businessName = businessName
        self.checksParts =
            checksParts ?? (businessName != nil || !composition.header.isEmpty || !composition.footer.isEmpty)
        self.prices = prices
    }
}

/// What smart encoding changes (or would change) for a text.
public struct SmartEncodingReport: Sendable, Equatable, Codable {
    /// Whether the estimate applied it.
    public var enabled: Bool
    /// The replacements it makes.
    public var replacements: [SmartEncoding.Replacement]
    /// Segments with the other setting.
    public var alternativeSegments: Int
    /// Credits per recipient with the other setting.
    public var alternativeCredits: Credits
    /// Credits per recipient saved by smart encoding (never negative).
    public var creditsSaved: Credits

    enum CodingKeys: String, CodingKey {
        case enabled, replacements
        case alternativeSegments = "alternative_segments"
        case alternativeCredits = "alternative_credits"
        case creditsSaved = "credits_saved"
    }
}

/// The cost of one text to one recipient, with the reasons.
///
/// The composer's ticker, `POST /v1/estimate`, the CLI and the hold placed when a message is
/// queued all call `Estimator.estimate`, so the estimate is the charge.
public struct Estimate: Sendable, Equatable, Codable {
    /// The exact text that is sent (header, body and footer, after smart encoding if enabled).
    public var text: String
    /// Characters in `text`.
    public var characters: Int
    /// GSM-7 or UCS-2.
    public var encoding: SMSEncoding
    /// Segments billed.
    public var segments: Int
    /// Septets or UTF-16 units in total.
    public var units: Int
    /// Units per segment.
    public var perSegmentUnits: [Int]
    /// Credits per recipient.
    public var credits: Credits
    /// Characters that forced UCS-2, with positions in `text`.
    public var forcingCharacters: [ForcingCharacter]
    /// Compliance warnings.
    public var warnings: [LintWarning]
    /// What smart encoding changes or would save.
    public var smartEncoding: SmartEncodingReport

    enum CodingKeys: String, CodingKey {
        case text, characters, encoding, segments, units, credits, warnings
        case perSegmentUnits = "per_segment_units"
        case forcingCharacters = "ucs2_characters"
        case smartEncoding = "smart_encoding"
    }
}

/// The text that is sent and what it costs, without the explanations: what sending computes
/// for each recipient.
public struct PricedText: Sendable, Equatable {
    public var text: String
    public var segments: Int
    public var credits: Credits
}

/// Computes estimates.
public enum Estimator {
    /// The sent text and its price: the part of `estimate` a hold is placed with.
    public static func price(body: String, options: EstimateOptions) throws(MessageError) -> PricedText {
        let prepared = try prepare(body: body, options: options)
        let segments = Segmenter.segment(prepared.sent).segments
        return PricedText(
            text: prepared.sent,
            segments: segments,
            credits: options.prices.text(channel: options.channel, segments: segments)
        )
    }

    /// Composes, applies smart encoding if enabled, and checks the length of what is sent.
    static func prepare(body: String, options: EstimateOptions) throws(MessageError)
        -> (composition: Composition, composed: String, encoded: SmartEncoding.Result, sent: String, length: Int)
    {
        let composition = try options.composition.validated()
        let composed = try composition.compose(body: body)
        let encoded =
            options.smartEncoding
            ? SmartEncoding.apply(to: composed) : SmartEncoding.Result(text: composed, replacements: [])
        let sent = encoded.text
        let length = MessageBody.length(of: sent)
        if length == 0 { throw .bodyEmpty }
        if length > MessageBody.lengthMax { throw .composedTooLong(length: length) }
        return (composition, composed, encoded, sent, length)
    }

    /// Estimates one body (merge fields already filled in) under the given options.
    public static func estimate(body: String, options: EstimateOptions) throws(MessageError) -> Estimate {
        let (composition, composed, applied, sent, length) = try prepare(body: body, options: options)
        // What smart encoding changes, whether or not it is on (when on, `prepare` applied it).
        let encoded = options.smartEncoding ? applied : SmartEncoding.apply(to: composed)
        let segmentation = Segmenter.segment(sent)
        let credits = options.prices.text(channel: options.channel, segments: segmentation.segments)
        // With no replacement the other setting sends the same text.
        let alternative =
            encoded.replacements.isEmpty
            ? segmentation : Segmenter.segment(options.smartEncoding ? composed : encoded.text)
        let alternativeCredits = options.prices.text(channel: options.channel, segments: alternative.segments)
        let withSmart = options.smartEncoding ? credits : alternativeCredits
        let withoutSmart = options.smartEncoding ? alternativeCredits : credits
        let report = SmartEncodingReport(
            enabled: options.smartEncoding,
            replacements: encoded.replacements,
            alternativeSegments: alternative.segments,
            alternativeCredits: alternativeCredits,
            creditsSaved: max(.zero, withoutSmart - withSmart)
        )

        let lint = ComplianceLint(
            businessName: options.businessName,
            checksParts: options.checksParts,
            ignoresReplaceable: options.smartEncoding
        )
        let warnings = lint.warnings(
            header: composition.header,
            body: body,
            footer: composition.footer,
            costNote: ucs2CostNote(
                smartEncoded: options.smartEncoding ? sent : encoded.text,
                segmentation: segmentation,
                credits: credits,
                options: options
            )
        )
        var result = Estimate(
            text: sent,
            characters: length,
            encoding: segmentation.encoding,
            segments: segmentation.segments,
            units: segmentation.units,
            perSegmentUnits: segmentation.perSegmentUnits,
            credits: credits,
            forcingCharacters: segmentation.forcingCharacters,
            warnings: warnings,
            smartEncoding: report
        )
        if segmentation.segments > longMessageSegments {
            result.warnings.append(
                LintWarning(
                    code: .longMessage,
                    message:
                        "This message is \(segmentation.segments) segments long; long messages cost more and are more often reported as spam.",
                    part: .message
                )
            )
        }
        return result
    }

    /// Above this many segments a message gets the long-message warning.
    static let longMessageSegments = 3

    /// "It costs 2 credits per recipient instead of 1": the price of UCS-2 against the same text
    /// with its non-GSM characters replaced (where smart encoding can) or left out.
    /// `smartEncoded` is the sent text after smart encoding.
    static func ucs2CostNote(
        smartEncoded: String,
        segmentation: Segmentation,
        credits: Credits,
        options: EstimateOptions
    ) -> String? {
        guard segmentation.encoding == .ucs2, options.channel != .mms else { return nil }
        var plain: [UInt8] = []
        plain.reserveCapacity(smartEncoded.utf8.count)
        for scalar in smartEncoded.unicodeScalars where GSM7.septets(scalar) > 0 {
            UTF8.encode(scalar) { plain.append($0) }
        }
        let gsmSegments = plain.withUnsafeBufferPointer { Segmenter.gsmPacking(of: $0)?.segments ?? 0 }
        let gsmCredits = options.prices.text(channel: options.channel, segments: gsmSegments)
        guard gsmCredits < credits else { return nil }
        return "This message costs \(credits) credits per recipient instead of \(gsmCredits)."
    }
}
