import Glassbox
print("glassbox")
