/// The GSM 03.38 default alphabet (3GPP TS 23.038): which characters a GSM-7 message can carry
/// and how many septets each costs.
///
/// Characters of the basic table cost one septet; those of the extension table (`^ { } \ [ ] ~ | €`
/// and form feed) are sent as ESC + character and cost two. Anything else forces UCS-2.
public enum GSM7 {
    /// Septets for each ASCII byte: 0 = not in the alphabet, 1 = basic table, 2 = extension table.
    static let asciiSeptets: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 128)
        let basic = "@$\n\r_ !\"#%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        for byte in basic.utf8 { table[Int(byte)] = 1 }
        let extended = "^{}\\[]~|\u{0C}"
        for byte in extended.utf8 { table[Int(byte)] = 2 }
        return table
    }()

    /// `asciiSeptets` as bit masks (bit n = ASCII n), constants the hot loops read without a
    /// lazy global's check; a test derives them from the table.
    static let basicMaskLow: UInt64 = 0xffff_ffff_0000_2400
    static let basicMaskHigh: UInt64 = 0x07ff_fffe_87ff_ffff
    static let extensionMaskLow: UInt64 = 0x1000
    static let extensionMaskHigh: UInt64 = 0x7800_0000_7800_0000

    /// Septets for an ASCII value (below 0x80): 0, 1 or 2.
    @inline(__always)
    static func septets(ascii value: UInt32) -> Int {
        let basic = value < 64 ? basicMaskLow >> UInt64(value) : basicMaskHigh >> UInt64(value - 64)
        let extended = value < 64 ? extensionMaskLow >> UInt64(value) : extensionMaskHigh >> UInt64(value - 64)
        return Int(basic & 1) | Int(extended & 1) << 1
    }

    /// Septets for a Unicode scalar: 0 when the scalar is not in the GSM-7 alphabet.
    @inline(__always)
    public static func septets(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x80 { return septets(ascii: value) }
        return septets(nonASCII: value)
    }

    /// The non-ASCII members of the basic table, plus € from the extension table.
    @inline(__always)
    static func septets(nonASCII value: UInt32) -> Int {
        switch value {
        case 0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF,  // ¡ £ ¤ ¥ § ¿
            0x00C4, 0x00C5, 0x00C6, 0x00C7, 0x00C9, 0x00D1,  // Ä Å Æ Ç É Ñ
            0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4,  // Ö Ø Ü ß à ä
            0x00E5, 0x00E6, 0x00E8, 0x00E9, 0x00EC, 0x00F1,  // å æ è é ì ñ
            0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC,  // ò ö ø ù ü
            0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0,  // Γ Δ Θ Λ Ξ Π
            0x03A3, 0x03A6, 0x03A8, 0x03A9:  // Σ Φ Ψ Ω
            return 1
        case 0x20AC:  // €
            return 2
        default:
            return 0
        }
    }

    /// True when every scalar of the text is in the GSM-7 alphabet.
    public static func canEncode(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.allSatisfy { septets($0) > 0 }
    }
}
