"""Integer codes that name families and links inside compiled kernels.

numba kernels see plain integers and floats only: no objects, no functions
passed as arguments, so that every kernel can be cached on disk
(``cache=True``) and loads in milliseconds in a new process.  The Python
``Family`` and ``Link`` objects carry these codes and a float parameter
(``power`` for tweedie and power links, ``alpha`` for the negative binomial).
"""

# Links: g maps the mean mu to the linear predictor eta; h = g^-1 maps back.
IDENTITY = 0
LOG = 1
LOGIT = 2
PROBIT = 3
CLOGLOG = 4
LOGLOG = 5
CAUCHIT = 6
INVERSE = 7
INVERSE_SQUARED = 8
SQRT = 9
POWER = 10
NEGATIVE_BINOMIAL_LINK = 11
SOFTPLUS = 12  # g(mu) = log(exp(mu) - 1): its inverse is the softplus activation
ATANH = 13  # g(mu) = atanh(mu): its inverse is the tanh activation

# Families: the distribution of y given its mean.
NORMAL = 0
BINOMIAL = 1
POISSON = 2
GAMMA = 3
INVERSE_GAUSSIAN = 4
TWEEDIE = 5
NEGATIVE_BINOMIAL = 6

# Fused (family, link) pairs with a hand-derived pointwise formula.  NO_PAIR
# sends a pointwise kernel through the general chain rule.
NO_PAIR = -1
NORMAL_IDENTITY = 0
BINOMIAL_LOGIT = 1
POISSON_LOG = 2
GAMMA_LOG = 3
GAMMA_INVERSE = 4
INVERSE_GAUSSIAN_INVERSE_SQUARED = 5
TWEEDIE_LOG = 6
NEGATIVE_BINOMIAL_LOG = 7

# Network-only codes.  RELU is an activation that inverts no link (hidden layers
# only); SOFTMAX marks a multinomial output layer of K units.
RELU = 100
SOFTMAX = 100
