import Foundation

/// Writes bytes whole to a file descriptor (standard output or error), retrying short writes and
/// interruptions; a closed or broken descriptor drops the rest instead of trapping.
public enum DescriptorOutput {
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, base + offset, bytes.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
