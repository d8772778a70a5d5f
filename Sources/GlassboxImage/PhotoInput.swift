import Foundation
import GlassboxNN
import GlassboxData

/// An image file turned into an image model's input, the way `explain-image` and `predict` read
/// it: PNG, JPEG, PGM/PPM (by content) or `.npy` (`[H, W]`, `[C, H, W]`, `[1, C, H, W]` float in 0…1, or uint8 0…255).
///
/// - With the model's ``ImagePreprocessing`` (photo models), the photo is resized, cropped and
///   scaled by it; maps are in the crop's coordinates and ``shown`` holds the cropped photo.
/// - Without it, the image is used at its own size: samples / 255 (PNM: / maxval), then the
///   model's ``ChannelNormalizer``. A colour image given to a one-channel model is converted to
///   grey (ITU-R 601 luma, as Pillow's `convert("L")`); a grey image given to a three-channel
///   model is repeated into R, G and B; other channel counts are refused.
public struct PhotoInput {
    /// `[1, C, H, W]` in the model's units.
    public var input: Tensor
    /// The 8-bit pixels the input was made from, at the input's size (nil for `.npy`).
    public var shown: PixelImage?
    /// Maps 0…1 images to model units (what removals such as "black" need).
    public var normalizer: ChannelNormalizer

    public static func load(_ url: URL, normalizer: ChannelNormalizer, preprocessing: ImagePreprocessing?) throws -> PhotoInput {
        let path = url.path
        if path.lowercased().hasSuffix(".npy") {
            let t = try NPY.readImages(from: url)
            let image: Tensor
            switch t.rank {
            case 2: image = try t.reshaped([1, 1] + t.shape)
            case 3: image = try t.reshaped([1] + t.shape)
            case 4 where t.shape[0] == 1: image = t
            default: throw GlassboxError.badFile(path: path, location: "", problem: "expected one image [H, W] or [C, H, W], found \(t.shape)")
            }
            guard image.shape[1] == normalizer.mean.count else {
                throw GlassboxError.badFile(path: path, location: "", problem: "image has \(image.shape[1]) channels, the model takes \(normalizer.mean.count)")
            }
            return PhotoInput(input: try normalizer.transform(image), shown: nil, normalizer: normalizer)
        }
        let data = try FileData.read(url, maxBytes: ImageFile.maxFileBytes)
        if let preprocessing {
            let photo = try ImageFile.decode(data, path: path)
            let shown = preprocessing.geometry(photo)
            return PhotoInput(input: preprocessing.tensor(shown), shown: shown, normalizer: preprocessing.normalizer)
        }
        let channels = normalizer.mean.count
        guard channels == 1 || channels == 3 else {
            throw GlassboxError.badFile(path: path, location: "", problem: "the model takes \(channels) channels; image files give 1 (grey) or 3 (RGB)")
        }
        var image: Tensor
        var shown: PixelImage
        if ImageFile.format(of: data) == .pnm {
            // PNM keeps its full precision (maxval up to 65535) rather than going through 8 bits.
            image = try PNM.decode(data, path: path)
            if image.shape[1] != channels {
                let photo = try ImageFile.decode(data, path: path)
                shown = channels == 1 ? photo.grey() : photo.rgb()
                image = shown.tensor()
            } else {
                shown = try ImageFile.decode(data, path: path)
            }
        } else {
            let photo = try ImageFile.decode(data, path: path)
            shown = channels == 1 ? photo.grey() : photo.rgb()
            image = shown.tensor()
        }
        return PhotoInput(input: try normalizer.transform(image), shown: shown, normalizer: normalizer)
    }
}
