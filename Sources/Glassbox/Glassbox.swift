@_exported import GlassboxNN
@_exported import GlassboxData
@_exported import GlassboxImage
@_exported import GlassboxExplain
@_exported import GlassboxReport
