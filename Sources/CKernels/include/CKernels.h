// placeholder
#include "gb_pointwise.h"
