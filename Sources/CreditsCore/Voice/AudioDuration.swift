import Foundation

/// How long a voice message plays, which decides what a broadcast holds: an uploaded file's
/// duration is read from the file itself; spoken text is estimated from its words.
public enum AudioDuration {
    /// Seconds of audio in a WAV or MP3 file, rounded up; nil when the file does not say.
    public static func seconds(of bytes: [UInt8], kind: MediaKind) -> Int? {
        switch kind {
        case .wav: wavSeconds(bytes)
        case .mp3: mp3Seconds(bytes)
        default: nil
        }
    }

    /// Words a text-to-speech voice says a minute, at its normal rate (a slow reading, so the
    /// estimate rarely falls short).
    public static let spokenWordsPerMinute = 130

    /// Seconds to say `text` aloud: its words at `spokenWordsPerMinute`, plus the "press 9 to
    /// stop" offer read after it (`optOutPromptWords`), at least one second.
    public static func spokenSeconds(_ text: String, withOptOutPrompt: Bool = true) -> Int {
        let words =
            text.split(whereSeparator: { $0.isWhitespace }).count
            + (withOptOutPrompt ? optOutPromptWords : 0)
        return max(1, (words * 60 + spokenWordsPerMinute - 1) / spokenWordsPerMinute)
    }

    /// The keypress opt-out offered after every broadcast message.
    public static let optOutPrompt = "To stop receiving these calls, press 9."
    static let optOutPromptWords = 7

    static func little32(_ bytes: [UInt8], _ offset: Int) -> Int? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16
            | Int(bytes[offset + 3]) << 24
    }

    /// RIFF/WAVE: the `fmt ` chunk's byte rate and the `data` chunk's size.
    static func wavSeconds(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 12, Array(bytes[0..<4]) == Array("RIFF".utf8), Array(bytes[8..<12]) == Array("WAVE".utf8)
        else { return nil }
        var offset = 12
        var byteRate: Int?
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
            guard let size = little32(bytes, offset + 4) else { return nil }
            if id == "fmt " {
                byteRate = little32(bytes, offset + 16)
            } else if id == "data" {
                guard let rate = byteRate, rate > 0 else { return nil }
                // A streamed file may say 0 or more than it holds: count what is there.
                let available = bytes.count - offset - 8
                let length = size == 0 || size > available ? available : size
                return max(1, (length + rate - 1) / rate)
            }
            offset += 8 + size + (size & 1)
        }
        return nil
    }

    /// MPEG audio: walks the frames (skipping an ID3v2 tag), adding each frame's samples.
    static func mp3Seconds(_ bytes: [UInt8]) -> Int? {
        var offset = 0
        if bytes.count >= 10, Array(bytes[0..<3]) == Array("ID3".utf8) {
            let size =
                Int(bytes[6] & 0x7F) << 21 | Int(bytes[7] & 0x7F) << 14 | Int(bytes[8] & 0x7F) << 7
                | Int(bytes[9] & 0x7F)
            offset = 10 + size
        }
        // Nanoseconds, in integers: each frame's samples at its own sample rate.
        var nanoseconds = 0
        var frames = 0
        while offset + 4 <= bytes.count {
            guard let frame = MPEGFrame(bytes[offset], bytes[offset + 1], bytes[offset + 2]) else {
                if frames == 0 {
                    offset += 1
                    continue
                }
                break
            }
            nanoseconds += frame.samples * 1_000_000_000 / frame.sampleRate
            frames += 1
            offset += frame.length
        }
        guard frames > 0 else { return nil }
        return max(1, (nanoseconds + 999_999_999) / 1_000_000_000)
    }

    /// One MPEG audio frame header (MPEG-1/2/2.5, layers I–III).
    struct MPEGFrame {
        let length: Int
        let samples: Int
        let sampleRate: Int

        init?(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) {
            guard b0 == 0xFF, b1 & 0xE0 == 0xE0 else { return nil }
            let version = Int((b1 >> 3) & 0x03)  // 0: 2.5, 2: 2, 3: 1
            let layer = Int((b1 >> 1) & 0x03)  // 1: III, 2: II, 3: I
            let bitrateIndex = Int(b2 >> 4)
            let rateIndex = Int((b2 >> 2) & 0x03)
            let padding = Int((b2 >> 1) & 0x01)
            guard version != 1, layer != 0, bitrateIndex != 0, bitrateIndex != 15, rateIndex != 3 else { return nil }
            let rates = [[11025, 12000, 8000], [], [22050, 24000, 16000], [44100, 48000, 32000]]
            let sampleRate = rates[version][rateIndex]
            let v1 = version == 3
            let table: [Int]
            switch (v1, layer) {
            case (true, 3): table = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448]
            case (true, 2): table = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384]
            case (true, _): table = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
            case (false, 3): table = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256]
            default: table = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
            }
            let bitrate = table[bitrateIndex] * 1000
            let samples: Int
            let length: Int
            if layer == 3 {
                samples = 384
                length = (12 * bitrate / sampleRate + padding) * 4
            } else {
                samples = layer == 1 && !v1 ? 576 : 1152
                length = samples / 8 * bitrate / sampleRate + padding
            }
            guard length > 4 else { return nil }
            self.length = length
            self.samples = samples
            self.sampleRate = sampleRate
        }
    }
}
