import GlassboxNN
