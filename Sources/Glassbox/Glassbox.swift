@_exported import GlassboxNN
@_exported import GlassboxData
