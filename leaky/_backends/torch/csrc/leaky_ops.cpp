// leaky's torch operators, registered from C++ (TORCH_LIBRARY, at the end:
// leaky_relu and its mask, packed bits, backward and in-place forms, and
// StyleGAN's bias_act, its packed form and backward).  leaky_relu is
// bias_act's plain case (lrelu with the slope, no bias, gain 1, no clamp),
// which the kernel table runs with leaky_relu's own kernels.
//
// What is here, by dispatch key (the dispatcher picks; nothing here asks what
// kind of tensor it was handed):
//   CPU       the kernels of leaky's ufuncs, through the kernel table
//             (src/leaky_kernel_table.h) of the active kernel variant.
//   Autograd  one rule.  Every operator's derivative is the linear map B(v)
//             = bias_act_backward(v, bits) on its bits (the activation's
//             plane, and the clamp's): for leaky_relu m ? v : slope * v
//             (leaky_relu_backward on a bool mask m = x > 0); a bias gets
//             B(v) summed.  B is its own adjoint (the backward), its own
//             forward tangent, and its own derivative (the double
//             backward), so every Autograd kernel calls B through the
//             dispatcher, with autograd, and higher derivatives compose.
//             In place, x's history is rebased on B with the bits taken
//             before the overwrite.
//   CompositeImplicitAutograd  leaky_relu, its packed form (bias_act's
//             plain case) and leaky_relu_with_mask (leaky_relu and x > 0).
// Fake/meta kernels, vmap rules, CUDA kernels and decompositions are
// registered from Python (_registrations.py).

#include <torch/extension.h>
#include <torch/library.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "leaky_kernel_table.h"

namespace {

using at::Tensor;
using torch::autograd::Edge;
using torch::autograd::Node;
using torch::autograd::SavedVariable;
using torch::autograd::variable_list;
using Pair = std::tuple<Tensor, Tensor>;

// ------------------------------------------------------------ the kernels --

const leaky_kernel_table* kernels = nullptr;

void set_kernel_table(py::capsule capsule) {
  auto table = static_cast<const leaky_kernel_table*>(
      PyCapsule_GetPointer(capsule.ptr(), LEAKY_KERNEL_TABLE_NAME));
  if (table == nullptr) throw py::error_already_set();
  TORCH_CHECK(table->version == LEAKY_KERNEL_TABLE_VERSION,
              "leaky's kernel table has version ", table->version, ", these operators were "
              "built for ", LEAKY_KERNEL_TABLE_VERSION, ": rebuild them");
  kernels = table;
}

int kind_of(at::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf: return LEAKY_KIND_HALF;
    case at::kFloat: return LEAKY_KIND_SINGLE;
    case at::kDouble: return LEAKY_KIND_DOUBLE;
    case at::kBFloat16: return LEAKY_KIND_BFLOAT16;
    default: return -1;
  }
}

// kernel() over n elements, letting Python run meanwhile when it is long.
template <typename Kernel>
void run_kernel(int64_t n, Kernel kernel) {
  TORCH_CHECK(kernels != nullptr, "leaky's kernel table was never set");
  if (n >= (1 << 16) && PyGILState_Check()) {
    py::gil_scoped_release no_gil;
    kernel();
  } else {
    kernel();
  }
}

// One operation over n elements; every operand is one contiguous range.
void run(int op, at::ScalarType dtype, std::initializer_list<void*> operands, int64_t n,
         double slope) {
  char* data[3];
  int k = 0;
  for (void* p : operands) data[k++] = static_cast<char*>(p);
  run_kernel(n, [&] { kernels->run(kind_of(dtype), op, data, n, slope); });
}

// ----------------------------------------------------------- the contract --
// The rules of leaky/_contract.py an operator needs before it allocates,
// mirrored because C++ cannot call Python; tests/test_torch_operators.py holds
// them to _contract.

at::ScalarType result_dtype(const Tensor& x, const char* what) {
  TORCH_CHECK_TYPE(!x.is_nested(), "leaky_relu got a nested tensor as ", what,
                   ": only dense tensors are supported");
  TORCH_CHECK_TYPE(x.layout() == at::kStrided, "leaky_relu got ", what, " with layout ",
                   x.layout(), ": only dense (torch.strided) tensors are supported");
  TORCH_CHECK_TYPE(!x.is_quantized(), "leaky_relu got ", what, " with quantized dtype ",
                   x.scalar_type(), ": dequantize it first");
  auto dtype = x.scalar_type();
  if (kind_of(dtype) >= 0) return dtype;
  if (dtype == at::kBool || at::isIntegralType(dtype, /*includeBool=*/false))
    return c10::typeMetaToScalarType(at::get_default_dtype());  // as torch.sin
  const char* python_name = dtype == at::kComplexHalf     ? " (torch.complex32)"
                            : dtype == at::kComplexFloat  ? " (torch.complex64)"
                            : dtype == at::kComplexDouble ? " (torch.complex128)"
                                                          : "";
  TORCH_CHECK_TYPE(false, "leaky_relu got ", what, " with unsupported dtype ", dtype,
                   python_name, at::isComplexType(dtype)
                       ? ": complex numbers have no order, so 'x > 0' is undefined"
                       : ": expected a real floating, integer or bool tensor");
}

// The slope is finite, then fits the precision `what` is computed in.
at::ScalarType checked_dtype(const Tensor& x, const char* what, double slope) {
  TORCH_CHECK_VALUE(std::isfinite(slope), "negative_slope must be finite, got ", slope);
  auto dtype = result_dtype(x, what);
  TORCH_CHECK_VALUE(dtype == at::kDouble || std::fabs(slope) <= kernels->float32_slope_limit,
                    "negative_slope=", slope, " overflows float32, the precision a ",
                    dtype, " input is computed in");
  return dtype;
}

int64_t packed_size(int64_t n) { return (n + 7) / 8; }

// ------------------------------------------------------------------- CPU --

// x's values in their result dtype, readable through data_ptr (no negative bit).
Tensor values(const Tensor& x, const char* what, double slope) {
  auto dtype = checked_dtype(x, what, slope);
  Tensor v = x.scalar_type() == dtype ? x : x.to(dtype);
  return v.is_neg() ? v.resolve_neg() : v;
}

// t's values as one flat range (its own layout if dense).
Tensor flat(const Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : t.contiguous();
}

// `out` (C order) laid out like `like` when that is dense and not C order.
// Outputs come from torch's own allocator (empty_like), laid out like their input.
Tensor laid_out_like(const Tensor& out, const Tensor& like) {
  if (like.is_contiguous() || !like.is_non_overlapping_and_dense()) return out;
  return at::empty_like(like, out.options()).copy_(out);
}

// The packed bits of n elements (`planes` planes of ceil(n / 8) bytes).
void check_bits(const Tensor& bits, int64_t n, int64_t planes) {
  TORCH_CHECK_TYPE(bits.scalar_type() == at::kByte, "packed bits must be uint8, got dtype ",
                   bits.scalar_type());
  TORCH_CHECK_VALUE(bits.numel() == planes * packed_size(n), "the mask holds packed bits for ",
                    n, " elements, so it must have ", planes, " x ceil(", n, " / 8) = ",
                    planes * packed_size(n), " bytes, got ", bits.numel(), " (shape ",
                    bits.sizes(), ")");
}

// bias_act (src/leaky_bias_act.h) of x (any layout; dim only matters with b)
// into y laid out like x, with its bits (packed in x's C order) if asked.
void check_bias_act(const Tensor& x, const c10::optional<Tensor>& b, int64_t dim, int64_t act,
                    double gain, double clamp) {
  TORCH_CHECK_VALUE(act >= LEAKY_ACT_LINEAR && act <= LEAKY_ACT_LRELU, "bias_act's act code ",
                    act, " is not 0 (linear), 1 (relu) or 2 (lrelu)");
  TORCH_CHECK_VALUE(std::isfinite(gain) && std::isfinite(clamp),
                    "bias_act's gain and clamp must be finite, got ", gain, " and ", clamp);
  TORCH_CHECK_VALUE(x.scalar_type() == at::kDouble ||
                        std::max(std::fabs(gain), std::fabs(clamp)) <= kernels->float32_slope_limit,
                    "bias_act's gain and clamp must fit float32, the precision a ",
                    x.scalar_type(), " input is computed in");
  if (!b.has_value() || !b->defined()) return;
  TORCH_CHECK_INDEX(dim >= 0 && dim < x.dim(), "bias_act's dim ", dim, " is out of range for ",
                    x.dim(), " dimensions");
  TORCH_CHECK_VALUE(b->dim() == 1 && b->size(0) == x.size(dim), "b must have shape (",
                    x.size(dim), ",) (x's size along dim ", dim, "), got ", b->sizes());
  TORCH_CHECK_TYPE(b->scalar_type() == x.scalar_type() && b->device() == x.device(),
                   "b must have x's dtype and device (", x.scalar_type(), ", ", x.device(),
                   "), got ", b->scalar_type(), ", ", b->device());
}

Pair run_bias_act(const Tensor& x_in, const c10::optional<Tensor>& b, int64_t dim, int64_t act,
                  double alpha, double gain, double clamp, bool with_bits) {
  Tensor bias = b.has_value() && b->defined() ? b->contiguous() : Tensor();
  bool c_order = with_bits || bias.defined();  // else any dense layout, as it lies
  Tensor x = c_order ? values(x_in, "x", alpha).contiguous() : flat(values(x_in, "x", alpha));
  check_bias_act(x, b, dim, act, gain, clamp);
  int64_t inner = 1;
  for (int64_t k = dim + 1; bias.defined() && k < x.dim(); k++) inner *= x.size(k);
  leaky_bias_act params{static_cast<int>(act), alpha, gain, clamp,
                        bias.defined() ? bias.data_ptr() : nullptr,
                        bias.defined() ? bias.numel() : 0, inner};
  Tensor bits = with_bits ? at::empty({(clamp >= 0 ? 2 : 1) * packed_size(x.numel())},
                                      x.options().dtype(at::kByte))
                          : Tensor();
  Tensor y = at::empty_like(x);
  run_kernel(x.numel(), [&] {
    kernels->bias_act(kind_of(x.scalar_type()), 1, x.data_ptr(), y.data_ptr(),
                      with_bits ? bits.data_ptr<uint8_t>() : nullptr, x.numel(), &params);
  });
  return {c_order ? laid_out_like(y, x_in) : y, bits};
}

Tensor bias_act_cpu(const Tensor& x, const c10::optional<Tensor>& b, int64_t dim, int64_t act,
                    double alpha, double gain, double clamp) {
  return std::get<0>(run_bias_act(x, b, dim, act, alpha, gain, clamp, false));
}

// The bits are in C order whatever x's layout (the autograd kernel hands
// in x in its memory order, so they are x's memory order there).
Pair bias_act_packed_cpu(const Tensor& x, const c10::optional<Tensor>& b, int64_t dim,
                         int64_t act, double alpha, double gain, double clamp) {
  return run_bias_act(x, b, dim, act, alpha, gain, clamp, true);
}

Tensor bias_act_backward_cpu(const Tensor& grad_in, const Tensor& bits, int64_t act,
                             double alpha, double gain, double clamp) {
  Tensor g = values(grad_in, "grad_output", alpha);
  Tensor gc = g.contiguous(), packed = bits.contiguous();
  check_bits(packed, gc.numel(), clamp >= 0 ? 2 : 1);
  leaky_bias_act params{static_cast<int>(act), alpha, gain, clamp, nullptr, 0, 1};
  Tensor out = at::empty_like(gc);
  run_kernel(gc.numel(), [&] {
    kernels->bias_act(kind_of(gc.scalar_type()), 0, gc.data_ptr(), out.data_ptr(),
                      packed.data_ptr<uint8_t>(), gc.numel(), &params);
  });
  return laid_out_like(out, g);
}

Tensor backward_cpu(const Tensor& grad_in, const Tensor& mask, double slope) {
  if (mask.scalar_type() == at::kByte)
    return bias_act_backward_cpu(grad_in, mask, LEAKY_ACT_LRELU, slope, 1, -1);
  TORCH_CHECK_TYPE(mask.scalar_type() == at::kBool,
                   "mask must be a bool tensor (x > 0, as leaky_relu_with_mask returns it) "
                   "or uint8 packed bits (packed=True), got dtype ", mask.scalar_type());
  Tensor g = flat(values(grad_in, "grad_output", slope));
  TORCH_CHECK_VALUE(mask.sizes() == g.sizes(), "grad_output and mask must have the same "
                    "shape, got ", g.sizes(), " and ", mask.sizes());
  Tensor m = mask;
  if (m.strides() != g.strides() || !m.is_non_overlapping_and_dense())
    m = at::empty_like(g, g.options().dtype(at::kBool)).copy_(mask);
  Tensor out = at::empty_like(g);
  run(LEAKY_OP_BACKWARD, g.scalar_type(), {g.data_ptr(), m.data_ptr(), out.data_ptr()},
      g.numel(), slope);
  return out;
}

void inplace_cpu(const Tensor& x, double slope) {
  auto dtype = checked_dtype(x, "x", slope);
  TORCH_CHECK_TYPE(dtype == x.scalar_type(), "leaky_relu in place needs a floating tensor, "
                   "got ", x.scalar_type(), ": the result is ", dtype);
  if (x.is_non_overlapping_and_dense() && !x.is_neg()) {
    void* data = x.mutable_data_ptr();
    run(LEAKY_OP_FORWARD, dtype, {data, data}, x.numel(), slope);
  } else {
    x.copy_(bias_act_cpu(x, c10::nullopt, 0, LEAKY_ACT_LRELU, slope, 1, -1));
  }
}

// ------------------------------------------------------ saved bits' order --
// The bits an autograd node keeps (and never returns) are packed in x's
// memory order: the C order of x.permute(order), a view that
// is contiguous when x is dense.  So a channels-last x and its gradient are
// read as they lie.  An empty order is C order.
using Order = std::vector<int64_t>;

Order memory_order(const Tensor& x) {
  if (x.dim() < 2 || x.unsafeGetTensorImpl()->has_symbolic_sizes_strides() || x.is_contiguous())
    return {};
  Order order(x.dim());
  std::iota(order.begin(), order.end(), 0);
  auto strides = x.strides();
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return strides[a] > strides[b]; });
  return order;
}

Tensor in_order(const Tensor& t, const Order& order) {
  return order.empty() ? t : t.permute(order);
}

Tensor from_order(const Tensor& t, const Order& order) {
  if (order.empty()) return t;
  Order inverse(order.size());
  for (size_t k = 0; k < order.size(); k++) inverse[order[k]] = static_cast<int64_t>(k);
  return t.permute(inverse);
}

// -------------------------------------------------------------- autograd --

template <typename Signature>
c10::TypedOperatorHandle<Signature> op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

struct Ops {  // typed handles (the CPU kernels' signatures), looked up once
  c10::TypedOperatorHandle<decltype(backward_cpu)> backward =
      op<decltype(backward_cpu)>("leaky::leaky_relu_backward");
  c10::TypedOperatorHandle<decltype(inplace_cpu)> inplace =
      op<decltype(inplace_cpu)>("leaky::leaky_relu_");
  c10::TypedOperatorHandle<decltype(bias_act_cpu)> bias_act =
      op<decltype(bias_act_cpu)>("leaky::bias_act");
  c10::TypedOperatorHandle<decltype(bias_act_packed_cpu)> bias_act_packed =
      op<decltype(bias_act_packed_cpu)>("leaky::bias_act_packed");
  c10::TypedOperatorHandle<decltype(bias_act_backward_cpu)> bias_act_backward =
      op<decltype(bias_act_backward_cpu)>("leaky::bias_act_backward");
};

const Ops& ops() {
  static const Ops handles;
  return handles;
}

// B itself: bias_act_backward on the bits; on a bool mask (leaky_relu's,
// the plain rule: lrelu, gain 1, no clamp), leaky_relu_backward.
struct Rule {
  int64_t act = LEAKY_ACT_LRELU;
  double alpha = 0, gain = 1, clamp = -1;

  bool plain() const { return act == LEAKY_ACT_LRELU && gain == 1 && clamp < 0; }
  Tensor operator()(const Tensor& v, const Tensor& mask) const {
    if (mask.scalar_type() == at::kBool) return ops().backward.call(v, mask, alpha);
    return ops().bias_act_backward.call(v, mask, act, alpha, gain, clamp);
  }
};

Tensor linear(const Tensor& v, const Tensor& mask, const Rule& rule, const Edge& x_edge);

// The node of every operator: d out / d v = B, on the gradient seen in
// `order_`.  x_edge_ is x's (when the mask came from an x that requires
// grad): a derivative of B, linear in v, is zero in x, as torch's own
// leaky_relu_backward says; with zero_for_x_, next edge 1 is x's and gets it.
// With bias_dim_ >= 0 (bias_act with a bias), next edge 1 is the bias's and
// gets x's gradient summed over every other dimension.
struct LinearNode : Node {
  SavedVariable mask_;
  Rule rule_;
  Order order_;
  Edge x_edge_;
  bool zero_for_x_ = false;
  int64_t bias_dim_ = -1;

  variable_list apply(variable_list&& grads) override {
    variable_list out(num_outputs());
    if (!grads[0].defined()) return out;
    Tensor dx = from_order(linear(in_order(grads[0], order_), mask_.unpack(), rule_, x_edge_),
                           order_);
    if (task_should_compute_output(0)) out[0] = dx;
    if (bias_dim_ >= 0 && task_should_compute_output(1)) {
      std::vector<int64_t> others;
      for (int64_t k = 0; k < dx.dim(); k++)
        if (k != bias_dim_) others.push_back(k);
      out[1] = dx.sum(others);
    } else if (zero_for_x_ && task_should_compute_output(1)) {
      out[1] = next_edge(1).function->input_metadata(next_edge(1).input_nr).zeros_like();
    }
    return out;
  }
  std::string name() const override {
    return rule_.plain() ? "LeakyReluBackward" : "BiasActBackward";
  }
  void release_variables() override { mask_.reset_data(); }
};

c10::intrusive_ptr<LinearNode> new_node(const Tensor& mask, const Rule& rule, Order order,
                                        Edge x_edge, torch::autograd::edge_list edges) {
  auto node = c10::make_intrusive<LinearNode>();
  node->set_next_edges(std::move(edges));
  node->mask_ = SavedVariable(mask, false);
  node->rule_ = rule;
  node->order_ = std::move(order);
  node->x_edge_ = std::move(x_edge);
  return node;
}

// out = B(v), recorded: for reverse mode a LinearNode (with an edge to x, if
// given, for its zero), for forward mode the tangent B(v's tangent).
Tensor linear(const Tensor& v, const Tensor& mask, const Rule& rule, const Edge& x_edge) {
  Tensor out;
  {
    at::AutoDispatchBelowADInplaceOrView below;
    out = rule(v, mask);
  }
  bool to_x = x_edge.is_valid();
  if (at::GradMode::is_enabled() && (v.requires_grad() || to_x)) {
    auto edges = torch::autograd::collect_next_edges(v);
    if (to_x) edges.push_back(x_edge);
    auto node = new_node(mask, rule, {}, x_edge, std::move(edges));
    node->zero_for_x_ = to_x;
    torch::autograd::set_history(out, node);
  }
  if (torch::autograd::isFwGradDefined(v))
    out._set_fw_grad(rule(v._fw_grad(/*level=*/0), mask), 0, false);
  return out;
}

Tensor backward_autograd(const Tensor& grad, const Tensor& mask, double slope) {
  return linear(grad, mask, Rule{LEAKY_ACT_LRELU, slope}, Edge());
}

Tensor bias_act_backward_autograd(const Tensor& grad, const Tensor& bits, int64_t act,
                                  double alpha, double gain, double clamp) {
  return linear(grad, bits, Rule{act, alpha, gain, clamp}, Edge());
}

// bias_act's y and bits, run below autograd on x seen in `order` (dim where
// it lies there; x's memory order for bits that stay inside the node); y's
// derivative is the rule's B on the bits, and, given a bias b (along dim),
// b's gradient B's output summed.  Forward mode: B(x' + b').
int64_t position_in(const Order& order, int64_t dim) {
  for (size_t k = 0; k < order.size(); k++)
    if (order[k] == dim) return static_cast<int64_t>(k);
  return dim;
}

bool records(const Tensor& x, const Tensor& b) {
  return torch::autograd::compute_requires_grad(x, b) || torch::autograd::isFwGradDefined(x) ||
         (b.defined() && torch::autograd::isFwGradDefined(b));
}

Pair recorded(const Tensor& x, const c10::optional<Tensor>& b_or_none, int64_t dim,
              const Rule& rule, const Order& order) {
  const Tensor b = b_or_none.value_or(Tensor());
  Tensor y, bits;
  {
    at::AutoDispatchBelowADInplaceOrView below;
    std::tie(y, bits) = ops().bias_act_packed.call(in_order(x, order), b_or_none,
                                                   position_in(order, dim), rule.act,
                                                   rule.alpha, rule.gain, rule.clamp);
    y = from_order(y, order);
  }
  if (torch::autograd::compute_requires_grad(x, b)) {
    auto edges = b.defined() ? torch::autograd::collect_next_edges(x, b)
                             : torch::autograd::collect_next_edges(x);
    Edge x_edge = edges[0];
    auto node = new_node(bits, rule, order, x_edge, std::move(edges));
    node->bias_dim_ = b.defined() ? dim : -1;
    torch::autograd::set_history(y, node);
  }
  bool b_tangent = b.defined() && torch::autograd::isFwGradDefined(b);
  if (torch::autograd::isFwGradDefined(x) || b_tangent) {
    Tensor tangent = torch::autograd::isFwGradDefined(x) ? x._fw_grad(0) : at::zeros_like(x);
    if (b_tangent) {
      std::vector<int64_t> shape(x.dim(), 1);
      shape[dim] = -1;
      tangent = tangent + b._fw_grad(0).reshape(shape);
    }
    y._set_fw_grad(from_order(rule(in_order(tangent, order), bits), order), 0, false);
  }
  return {y, bits};
}

Tensor bias_act_autograd(const Tensor& x, const c10::optional<Tensor>& b, int64_t dim,
                         int64_t act, double alpha, double gain, double clamp) {
  if (!records(x, b.value_or(Tensor()))) {
    at::AutoDispatchBelowADInplaceOrView below;
    return ops().bias_act.call(x, b, dim, act, alpha, gain, clamp);
  }
  return std::get<0>(recorded(x, b, dim, Rule{act, alpha, gain, clamp}, memory_order(x)));
}

Pair bias_act_packed_autograd(const Tensor& x, const c10::optional<Tensor>& b, int64_t dim,
                              int64_t act, double alpha, double gain, double clamp) {
  return recorded(x, b, dim, Rule{act, alpha, gain, clamp}, {});
}

// leaky_relu is bias_act's plain case, for every dispatch key
// (CompositeImplicitAutograd); so are its mask (with x > 0) and packed forms.
Tensor forward_composite(const Tensor& x, double slope) {
  return ops().bias_act.call(x, c10::nullopt, 0, LEAKY_ACT_LRELU, slope, 1, -1);
}

Pair with_mask_composite(const Tensor& x, double slope) {
  return {forward_composite(x, slope), at::gt(x, 0)};
}

Pair packed_composite(const Tensor& x, double slope) {
  return ops().bias_act_packed.call(x, c10::nullopt, 0, LEAKY_ACT_LRELU, slope, 1, -1);
}

// In place.  With a derivative to record, the bits of x > 0 are taken as x
// is overwritten, and x's history is rebased on B with those bits, as
// torch's own in-place operators rebase theirs: no copy_ node adds a +0 for
// the overwritten value, so gradients keep their signed zeros, and every
// slope works (torch's leaky_relu_ refuses a negative one).
void inplace_autograd(const Tensor& x, double slope) {
  bool needs_grad = torch::autograd::compute_requires_grad(x);
  if (!records(x, Tensor())) {
    {
      at::AutoDispatchBelowADInplaceOrView below;
      ops().inplace.call(x, slope);
    }
    torch::autograd::increment_version(x);
    return;
  }
  torch::autograd::check_inplace(x, needs_grad);  // torch's error for a leaf
  const Rule rule{LEAKY_ACT_LRELU, slope};
  Order order = memory_order(x);
  Tensor bits;
  {
    at::AutoDispatchBelowADInplaceOrView below;
    Tensor y;
    std::tie(y, bits) = packed_composite(in_order(x, order), slope);
    in_order(x, order).copy_(y);
  }
  torch::autograd::increment_version(x);
  if (needs_grad) {
    auto edges = torch::autograd::collect_next_edges(x);
    Edge x_edge = edges[0];
    torch::autograd::rebase_history(x, new_node(bits, rule, order, x_edge, std::move(edges)));
  }
  if (torch::autograd::isFwGradDefined(x)) {  // x's tangent is updated in place too
    Tensor tangent = x._fw_grad(/*level=*/0);
    tangent.copy_(from_order(rule(in_order(tangent, order), bits), order));
    x._set_fw_grad(tangent, /*level=*/0, /*is_inplace_op=*/true);
  }
}

}  // namespace

TORCH_LIBRARY(leaky, m) {
  m.set_python_module("leaky._backends.torch._registrations");
  m.def("leaky_relu(Tensor x, float negative_slope) -> Tensor");
  m.def("leaky_relu_with_mask(Tensor x, float negative_slope) -> (Tensor, Tensor)");
  m.def("leaky_relu_packed(Tensor x, float negative_slope) -> (Tensor, Tensor)");
  m.def("leaky_relu_backward(Tensor grad_output, Tensor mask, float negative_slope) -> Tensor");
  m.def("leaky_relu_(Tensor(a!) x, float negative_slope) -> ()");
  m.def("bias_act(Tensor x, Tensor? b, int dim, int act, float alpha, float gain, float clamp) "
        "-> Tensor");
  m.def("bias_act_packed(Tensor x, Tensor? b, int dim, int act, float alpha, float gain, "
        "float clamp) -> (Tensor, Tensor)");
  m.def("bias_act_backward(Tensor grad_output, Tensor bits, int act, float alpha, float gain, "
        "float clamp) -> Tensor");
}

TORCH_LIBRARY_IMPL(leaky, CPU, m) {
  m.impl("leaky_relu_backward", &backward_cpu);
  m.impl("leaky_relu_", &inplace_cpu);
  m.impl("bias_act", &bias_act_cpu);
  m.impl("bias_act_packed", &bias_act_packed_cpu);
  m.impl("bias_act_backward", &bias_act_backward_cpu);
}

TORCH_LIBRARY_IMPL(leaky, CompositeImplicitAutograd, m) {
  m.impl("leaky_relu", &forward_composite);
  m.impl("leaky_relu_with_mask", &with_mask_composite);
  m.impl("leaky_relu_packed", &packed_composite);
}

TORCH_LIBRARY_IMPL(leaky, Autograd, m) {
  m.impl("leaky_relu_backward", &backward_autograd);
  m.impl("leaky_relu_", &inplace_autograd);
  m.impl("bias_act", &bias_act_autograd);
  m.impl("bias_act_packed", &bias_act_packed_autograd);
  m.impl("bias_act_backward", &bias_act_backward_autograd);
}

// Python's entry to the operators: the dispatcher, with no schema-driven
// argument parsing (torch.ops' boxed path costs about a microsecond more a
// call).  __torch_function__ is Python's to check first (_modes.py does, as
// torch's own Python functions do).
PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.doc() = "leaky's torch operators (C++): see leaky/_backends/torch/__init__.py";
  module.def("set_kernel_table", &set_kernel_table);
  module.def("leaky_relu", &forward_composite);
  module.def("leaky_relu_with_mask", &with_mask_composite);
  module.def("leaky_relu_packed", &packed_composite);
  module.def("leaky_relu_backward", [](const Tensor& g, const Tensor& m, double s) {
    return ops().backward.call(g, m, s);
  });
  module.def("leaky_relu_", [](const Tensor& x, double s) { ops().inplace.call(x, s); });
  module.def("bias_act", [](const Tensor& x, const c10::optional<Tensor>& b, int64_t dim,
                            int64_t act, double alpha, double gain, double clamp) {
    return ops().bias_act.call(x, b, dim, act, alpha, gain, clamp);
  });
}
